/**
 * The vfs suite (STYLE.md §5): one describe per matrix row, a fresh volume per test. Behaviour is
 * checked through the Vfs API; the on-store format through the object listing and the independent
 * reader of test/vfs/simple-reader.ts.
 */
import assert from 'node:assert/strict';
import { toChunkIndex } from '../../src/meta/types.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { CHUNK_SIZE, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, type Credentials, type Ino } from '../../src/vfs/types.js';
import { BLOCK, bytes, type Rig, type RigOptions, type Row } from './rig.js';
import { readFileBySpec, specKey } from './simple-reader.js';

/** The file as the independent reader sees it, once background work settled and staged blocks are uploaded. */
async function specRead(r: Rig, ino: Ino): Promise<Buffer> {
  await r.settle();
  return readFileBySpec(r.meta, r.store, ino, BLOCK);
}

const ROOT: Credentials = ROOT_CREDENTIALS;
const ALICE: Credentials = { uid: 1000, gid: 1000, gids: [] };
const n = (s: string): Buffer => Buffer.from(s);

export async function rejectsWith(p: Promise<unknown>, errno: Errno): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFsError(err), `expected FsError ${Errno[errno]}, got ${String(err)}`);
    assert.equal(Errno[err.errno], Errno[errno]);
    return true;
  });
}

export function vfsSuite(row: Row): void {
  describe(`Vfs (${row.name})`, function () {
    this.timeout(120_000);
    let rig: Rig;
    const rigs: Rig[] = [];

    async function fresh(opts?: RigOptions): Promise<Rig> {
      const r = await row.make(opts);
      rigs.push(r);
      return r;
    }

    beforeEach(async function () {
      rig = await fresh();
    });

    afterEach(async function () {
      for (const r of rigs.splice(0)) {
        assert.equal(r.vfs.openHandles, 0, 'a test left a handle open');
        await r.close();
      }
    });

    /** Creates `name` in the root, writes `data` at 0, fsyncs, releases; returns the inode. */
    async function writeFile(name: string, data: Buffer, r: Rig = rig): Promise<Ino> {
      const e = await r.vfs.create(ROOT, ROOT_INODE, n(name), 0o644, 0);
      const { handle } = await r.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      await r.vfs.write(ROOT, handle, 0, data);
      await r.vfs.fsync(ROOT, handle);
      await r.vfs.release(ROOT, handle);
      return e.ino;
    }

    async function readAll(ino: Ino, r: Rig = rig): Promise<Buffer> {
      const len = (await r.vfs.getattr(ROOT, ino)).length;
      return r.vfs.read(ROOT, ino, 0, len + 10);
    }

    it('writes a file and reads it back, whole and in ranges', async function () {
      const data = bytes(3 * BLOCK + 1234, 1);
      const ino = await writeFile('a', data);
      assert.equal((await rig.vfs.getattr(ROOT, ino)).length, data.length);
      assert.ok((await readAll(ino)).equals(data));
      const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
      assert.ok((await rig.vfs.read(ROOT, handle, BLOCK - 10, 20)).equals(data.subarray(BLOCK - 10, BLOCK + 10)));
      assert.ok((await rig.vfs.read(ROOT, handle, data.length - 5, 100)).equals(data.subarray(data.length - 5)));
      assert.equal((await rig.vfs.read(ROOT, handle, data.length, 100)).length, 0);
      assert.equal((await rig.vfs.read(ROOT, handle, data.length + 5000, 100)).length, 0);
      await rig.vfs.release(ROOT, handle);
    });

    it('reads writes back before they are flushed, and counts them in the length', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('p'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      await rig.vfs.write(ROOT, handle, 0, bytes(1000, 2));
      assert.equal((await rig.vfs.getattr(ROOT, e.ino)).length, 1000);
      const listed = [];
      for await (const d of rig.vfs.readdir(ROOT, ROOT_INODE, { plus: true })) if (d.name.equals(n('p'))) listed.push(d);
      assert.equal(listed[0]?.attr?.length, 1000);
      const paged = [];
      for await (const page of rig.vfs.readdirPages(ROOT, ROOT_INODE, { plus: true })) paged.push(...page.filter((d) => d.name.equals(n('p'))));
      assert.equal(paged[0]?.attr?.length, 1000);
      assert.ok((await rig.vfs.read(ROOT, handle, 0, 2000)).equals(bytes(1000, 2)));
      await rig.vfs.release(ROOT, handle);
    });

    it('serves interleaved writes and reads without fsync from the write buffers, committing nothing', async function () {
      // long flush timers: any commit during the test would come from the reads
      const r = await fresh({ flushAgeMs: 600_000, flushIdleMs: 600_000 });
      const e = await r.vfs.create(ROOT, ROOT_INODE, n('interleaved'), 0o644, 0);
      const { handle } = await r.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      await r.vfs.write(ROOT, handle, 0, bytes(3 * BLOCK, 1));
      await r.vfs.fsync(ROOT, handle); // a committed base to lay the writes over
      let model = bytes(3 * BLOCK, 1);
      const steps: [number, Buffer][] = [
        [BLOCK / 2, bytes(100, 2)], // inside the committed data
        [2 * BLOCK + 10, bytes(3 * BLOCK, 3)], // across blocks and past the end: full blocks upload, the slice stays open
        [BLOCK / 2 + 50, bytes(100, 4)], // overlaps the first pending write: the newer one wins
        [8 * BLOCK, bytes(10, 5)], // leaves a hole
      ];
      const committedBefore = (await r.meta.readSlices(e.ino, toChunkIndex(0))).length;
      for (const [off, data] of steps) {
        await r.vfs.write(ROOT, handle, off, data);
        const next = Buffer.alloc(Math.max(model.length, off + data.length));
        model.copy(next);
        data.copy(next, off);
        model = next;
        assert.ok((await r.vfs.read(ROOT, handle, 0, 10 * BLOCK)).equals(model), `whole file after the write at ${off}`);
        assert.ok((await r.vfs.read(ROOT, handle, off - 7, 300)).equals(model.subarray(off - 7, off + 293)), `around the write at ${off}`);
      }
      assert.equal((await r.meta.readSlices(e.ino, toChunkIndex(0))).length, committedBefore, 'the reads committed nothing');
      await r.vfs.release(ROOT, handle);
      assert.ok((await specRead(r, e.ino)).equals(model), 'after release the store holds the same bytes');
    });

    it('overwrites in the middle, before and after a flush, newest wins', async function () {
      const base = bytes(4 * BLOCK, 3);
      const ino = await writeFile('m', base);
      const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ | MODE_WRITE);
      const patch1 = bytes(BLOCK, 4);
      await rig.vfs.write(ROOT, handle, BLOCK + 100, patch1);
      await rig.vfs.fsync(ROOT, handle);
      const patch2 = bytes(500, 5);
      await rig.vfs.write(ROOT, handle, BLOCK + 50, patch2);
      const want = Buffer.from(base);
      patch1.copy(want, BLOCK + 100);
      patch2.copy(want, BLOCK + 50);
      assert.ok((await rig.vfs.read(ROOT, handle, 0, want.length)).equals(want));
      await rig.vfs.release(ROOT, handle);
      assert.ok((await readAll(ino)).equals(want));
      assert.ok((await specRead(rig, ino)).equals(want));
    });

    it('appends in small writes into one slice with exact block objects', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('log'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
      const parts: Buffer[] = [];
      let off = 0;
      for (let i = 0; i < 40; i++) {
        const p = bytes(5000 + i, 10 + i);
        await rig.vfs.write(ROOT, handle, off, p);
        parts.push(p);
        off += p.length;
      }
      await rig.vfs.release(ROOT, handle);
      const all = Buffer.concat(parts);
      assert.ok((await readAll(e.ino)).equals(all));
      const slices = await rig.meta.readSlices(e.ino, toChunkIndex(0));
      assert.equal(slices.length, 1, 'sequential appends form one slice');
      const objects = await rig.objects();
      const id = slices[0]?.id ?? 0n;
      const want = new Map<string, number>();
      for (let i = 0; i * BLOCK < all.length; i++) want.set(specKey(id, all.length, i, BLOCK), Math.min(BLOCK, all.length - i * BLOCK));
      assert.deepEqual(objects, want);
    });

    it('places writes into slices as spec §E.1: appends extend, a write under a newer slice starts a new one', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('rules'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      await rig.vfs.write(ROOT, handle, 0, bytes(1000, 1)); // A
      await rig.vfs.write(ROOT, handle, 1000, bytes(500, 2)); // appends to A
      await rig.vfs.write(ROOT, handle, 1200, bytes(100, 3)); // inside A's unflushed tail: A again
      await rig.vfs.write(ROOT, handle, 2000, bytes(100, 4)); // past A's end: B
      await rig.vfs.write(ROOT, handle, 1400, bytes(700, 5)); // fits A's tail but overlaps the newer B: C
      await rig.vfs.fsync(ROOT, handle);
      const list = await rig.meta.readSlices(e.ino, toChunkIndex(0));
      assert.deepEqual(list.map((r) => [r.pos, r.len, r.off, r.size]), [[0, 1500, 0, 1500], [2000, 100, 0, 100], [1400, 700, 0, 700]]);
      assert.ok(list[0] !== undefined && list[1] !== undefined && list[2] !== undefined && list[0].id < list[1].id && list[1].id < list[2].id, 'committed in creation order');
      const want = Buffer.alloc(2100);
      bytes(1000, 1).copy(want, 0);
      bytes(500, 2).copy(want, 1000);
      bytes(100, 3).copy(want, 1200);
      bytes(100, 4).copy(want, 2000);
      bytes(700, 5).copy(want, 1400);
      assert.ok((await rig.vfs.read(ROOT, handle, 0, 3000)).equals(want));
      await rig.vfs.release(ROOT, handle);
    });

    it('gives newest-wins content for out-of-order and overlapping writes', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('ooo'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      const model = Buffer.alloc(6 * BLOCK);
      const writes: [number, number, number][] = [
        [2 * BLOCK, BLOCK, 1], [0, BLOCK, 2], [BLOCK, BLOCK, 3], [BLOCK / 2, BLOCK, 4],
        [4 * BLOCK + 7, 2 * BLOCK - 7, 5], [3 * BLOCK, BLOCK + 100, 6], [100, 300, 7], [2 * BLOCK - 1, 2, 8],
      ];
      // issue them concurrently, as an NFS client with many WRITEs in flight does
      await Promise.all(writes.map(async ([off, len, seed]) => {
        const d = bytes(len, seed);
        await rig.vfs.write(ROOT, handle, off, d);
      }));
      for (const [off, len, seed] of writes) bytes(len, seed).copy(model, off);
      assert.ok((await rig.vfs.read(ROOT, handle, 0, model.length)).equals(model));
      await rig.vfs.fsync(ROOT, handle);
      await rig.vfs.release(ROOT, handle);
      assert.ok((await readAll(e.ino)).equals(model));
      assert.ok((await specRead(rig, e.ino)).equals(model));
    });

    it('reads holes of sparse files as zeros, across a chunk boundary', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('sparse'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      const a = bytes(3000, 11);
      const b = bytes(2 * BLOCK, 12);
      await rig.vfs.write(ROOT, handle, 5 * BLOCK, a);
      await rig.vfs.write(ROOT, handle, CHUNK_SIZE - BLOCK, b); // straddles chunks 0 and 1
      await rig.vfs.release(ROOT, handle);
      const attr = await rig.vfs.getattr(ROOT, e.ino);
      assert.equal(attr.length, CHUNK_SIZE + BLOCK);
      assert.ok((await rig.vfs.read(ROOT, e.ino, 0, 5 * BLOCK)).equals(Buffer.alloc(5 * BLOCK)));
      assert.ok((await rig.vfs.read(ROOT, e.ino, 5 * BLOCK - 10, 3020)).equals(Buffer.concat([Buffer.alloc(10), a, Buffer.alloc(10)])));
      assert.ok((await rig.vfs.read(ROOT, e.ino, CHUNK_SIZE - BLOCK - 5, 2 * BLOCK + 100)).equals(Buffer.concat([Buffer.alloc(5), b])));
      assert.deepEqual((await rig.meta.listChunks(e.ino)).map(Number), [0, 1]);
      const objects = await rig.objects();
      assert.equal(objects.size, 3, 'one block for a, one per chunk for b');
    });

    it('truncates down and up without stale data reappearing, also with writes pending', async function () {
      const data = bytes(3 * BLOCK, 13);
      const ino = await writeFile('t', data);
      await rig.vfs.setattr(ROOT, ino, { size: BLOCK + 10 });
      await rig.vfs.setattr(ROOT, ino, { size: 3 * BLOCK });
      const want = Buffer.alloc(3 * BLOCK);
      data.copy(want, 0, 0, BLOCK + 10);
      assert.ok((await readAll(ino)).equals(want));

      // a pending write past the new length must not come back after the truncate
      const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ | MODE_WRITE);
      await rig.vfs.write(ROOT, handle, 2 * BLOCK, bytes(BLOCK, 14));
      await rig.vfs.setattr(ROOT, ino, { size: 100 });
      assert.equal((await rig.vfs.getattr(ROOT, ino)).length, 100);
      await rig.vfs.setattr(ROOT, ino, { size: 3 * BLOCK });
      const want2 = Buffer.alloc(3 * BLOCK);
      data.copy(want2, 0, 0, 100);
      assert.ok((await rig.vfs.read(ROOT, handle, 0, 4 * BLOCK)).equals(want2));
      await rig.vfs.release(ROOT, handle);
      assert.ok((await specRead(rig, ino)).equals(want2));
    });

    it('keeps an unlinked open file readable until release, then deletes its objects', async function () {
      const data = bytes(2 * BLOCK + 5, 15);
      const ino = await writeFile('gone', data);
      const keep = await writeFile('keep', bytes(100, 16));
      const before = await rig.objects();
      assert.equal(before.size, 4);
      const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
      await rig.vfs.unlink(ROOT, ROOT_INODE, n('gone'));
      await rejectsWith(rig.vfs.lookup(ROOT, ROOT_INODE, n('gone')), Errno.ENOENT);
      await rig.settle();
      assert.ok((await rig.vfs.read(ROOT, handle, 0, data.length)).equals(data));
      assert.equal((await rig.objects()).size, 4, 'objects stay while the file is open');
      await rig.vfs.release(ROOT, handle);
      await rig.settle();
      const after = await rig.objects();
      assert.equal(after.size, 1, 'only the other file is left');
      assert.ok((await readAll(keep)).equals(bytes(100, 16)));
    });

    it('deletes the objects of an unlinked file that is not open', async function () {
      await writeFile('x', bytes(3 * BLOCK, 17));
      assert.equal((await rig.objects()).size, 3);
      await rig.vfs.unlink(ROOT, ROOT_INODE, n('x'));
      await rig.settle();
      assert.equal((await rig.objects()).size, 0);
    });

    it('copyRange shares slices: no new objects, same bytes, independent afterwards', async function () {
      const data = bytes(3 * BLOCK + 77, 18);
      const src = await writeFile('src', data);
      const dst = (await rig.vfs.create(ROOT, ROOT_INODE, n('dst'), 0o644, 0)).ino;
      const before = await rig.objects();
      const attr = await rig.vfs.copyRange(ROOT, src, 0, dst, 0, data.length);
      assert.equal(attr.length, data.length);
      assert.deepEqual(await rig.objects(), before);
      assert.ok((await readAll(dst)).equals(data));
      // a part of the source, into the middle of the destination
      await rig.vfs.copyRange(ROOT, src, BLOCK, dst, 10, 100);
      const want = Buffer.from(data);
      data.copy(want, 10, BLOCK, BLOCK + 100);
      assert.ok((await readAll(dst)).equals(want));
      assert.deepEqual(await rig.objects(), before);
      // deleting the source keeps the shared objects for the copy
      await rig.vfs.unlink(ROOT, ROOT_INODE, n('src'));
      await rig.settle();
      assert.ok((await readAll(dst)).equals(want));
      assert.ok((await specRead(rig, dst)).equals(want));
      await rig.vfs.unlink(ROOT, ROOT_INODE, n('dst'));
      await rig.settle();
      assert.equal((await rig.objects()).size, 0);
    });

    it('copyRange commits pending writes of both files first', async function () {
      const src = (await rig.vfs.create(ROOT, ROOT_INODE, n('s'), 0o644, 0)).ino;
      const dst = (await rig.vfs.create(ROOT, ROOT_INODE, n('d'), 0o644, 0)).ino;
      const hs = (await rig.vfs.open(ROOT, src, MODE_WRITE)).handle;
      const hd = (await rig.vfs.open(ROOT, dst, MODE_WRITE)).handle;
      await rig.vfs.write(ROOT, hs, 0, bytes(1000, 19));
      await rig.vfs.write(ROOT, hd, 0, bytes(2000, 20));
      await rig.vfs.copyRange(ROOT, src, 0, dst, 500, 1000);
      const want = bytes(2000, 20);
      bytes(1000, 19).copy(want, 500);
      await rig.vfs.release(ROOT, hs);
      await rig.vfs.release(ROOT, hd);
      assert.ok((await readAll(dst)).equals(want));
    });

    it('checks permissions through meta: read needs read access, write needs a writable handle', async function () {
      const ino = await writeFile('priv', bytes(10, 21));
      await rig.vfs.setattr(ROOT, ino, { mode: 0o600 });
      await rejectsWith(rig.vfs.open(ALICE, ino, MODE_READ), Errno.EACCES);
      await rejectsWith(rig.vfs.read(ALICE, ino, 0, 10), Errno.EACCES);
      const { handle } = await rig.vfs.open(ROOT, ino, MODE_READ);
      await rejectsWith(rig.vfs.write(ROOT, handle, 0, bytes(1, 1)), Errno.EBADF);
      await rig.vfs.release(ROOT, handle);
      await rejectsWith(rig.vfs.release(ROOT, handle), Errno.EBADF);
    });

    it('opens with truncate, and refuses directories', async function () {
      const ino = await writeFile('tr', bytes(5000, 22));
      const { handle, attr } = await rig.vfs.open(ROOT, ino, MODE_WRITE, { truncate: true });
      assert.equal(attr.length, 0);
      await rig.vfs.release(ROOT, handle);
      assert.equal((await readAll(ino)).length, 0);
      const dir = await rig.vfs.mkdir(ROOT, ROOT_INODE, n('dir'), 0o755, 0);
      await rejectsWith(rig.vfs.open(ROOT, dir.ino, MODE_READ), Errno.EISDIR);
      await rejectsWith(rig.vfs.read(ROOT, dir.ino, 0, 1), Errno.EISDIR);
    });

    it('fsync resolves with the attributes its commit left: through a handle, and by inode for a file not open here', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('fa'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE, { known: e.attr });
      await rig.vfs.write(ROOT, handle, 0, bytes(5000, 23));
      const synced = await rig.vfs.fsync(ROOT, handle);
      await rig.vfs.release(ROOT, handle);
      const fresh = await rig.vfs.getattr(ROOT, e.ino);
      assert.equal(synced.length, 5000);
      assert.deepEqual({ ...synced }, { ...fresh });
      assert.deepEqual({ ...(await rig.vfs.fsync(ROOT, e.ino)) }, { ...fresh });
    });

    it('open with the attributes a create just returned checks those: a directory is still EISDIR', async function () {
      const dir = await rig.vfs.mkdir(ROOT, ROOT_INODE, n('kd'), 0o755, 0);
      await rejectsWith(rig.vfs.open(ROOT, dir.ino, MODE_WRITE, { known: dir.attr }), Errno.EISDIR);
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('kf'), 0o600, 0);
      await rejectsWith(rig.vfs.open(ALICE, e.ino, MODE_READ, { known: e.attr }), Errno.EACCES);
      assert.equal(rig.vfs.openHandles, 0);
    });

    it('namespace operations pass through: mkdir, symlink, link, rename, readdir, xattrs, statfs', async function () {
      const dir = await rig.vfs.mkdir(ROOT, ROOT_INODE, n('d'), 0o755, 0);
      const f = await rig.vfs.create(ROOT, dir.ino, n('f'), 0o644, 0);
      const s = await rig.vfs.symlink(ROOT, dir.ino, n('s'), n('f'));
      assert.ok((await rig.vfs.readlink(ROOT, s.ino)).equals(n('f')));
      const linked = await rig.vfs.link(ROOT, f.ino, ROOT_INODE, n('hard'));
      assert.equal(linked.nlink, 2);
      await rig.vfs.rename(ROOT, dir.ino, n('f'), dir.ino, n('g'));
      const names: string[] = [];
      for await (const e of rig.vfs.readdir(ROOT, dir.ino)) names.push(e.name.toString());
      assert.deepEqual(names.sort(), ['.', '..', 'g', 's']);
      await rig.vfs.setxattr(ROOT, f.ino, n('user.k'), n('v'));
      assert.ok((await rig.vfs.getxattr(ROOT, f.ino, n('user.k'))).equals(n('v')));
      assert.equal((await rig.vfs.listxattr(ROOT, f.ino)).length, 1);
      await rig.vfs.removexattr(ROOT, f.ino, n('user.k'));
      await rejectsWith(rig.vfs.getxattr(ROOT, f.ino, n('user.k')), Errno.ENODATA);
      await rejectsWith(rig.vfs.rmdir(ROOT, ROOT_INODE, n('d')), Errno.ENOTEMPTY);
      const st = await rig.vfs.statfs(ROOT, ROOT_INODE);
      assert.ok(st.usedInodes >= 3);
      await rig.vfs.access(ROOT, f.ino, MODE_READ | MODE_WRITE);
    });

    it('reports a refused commit at fsync and leaves no objects behind (volume full)', async function () {
      const small = await fresh({ setting: { Capacity: 64 * 1024 } });
      const e = await small.vfs.create(ROOT, ROOT_INODE, n('big'), 0o644, 0);
      const { handle } = await small.vfs.open(ROOT, e.ino, MODE_WRITE);
      await small.vfs.write(ROOT, handle, 0, bytes(3 * BLOCK, 23));
      await rejectsWith(small.vfs.fsync(ROOT, handle), Errno.ENOSPC);
      await small.vfs.fsync(ROOT, handle); // reported once
      await small.vfs.release(ROOT, handle);
      assert.equal((await small.objects()).size, 0);
    });

    it('bounds write memory by the buffer budget: many files through a tiny budget', async function () {
      // timers far away: progress must come from buffer pressure alone, not from the age/idle flush
      const tiny = await fresh({ bufferBytes: 4 * BLOCK, flushAgeMs: 3_600_000, flushIdleMs: 3_600_000 });
      const files = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
        const e = await tiny.vfs.create(ROOT, ROOT_INODE, n(`f${i}`), 0o644, 0);
        return { ino: e.ino, handle: (await tiny.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE)).handle, data: bytes(5 * BLOCK + i, 30 + i) };
      }));
      await Promise.all(files.map(async (f) => {
        for (let off = 0; off < f.data.length; off += 10_000) await tiny.vfs.write(ROOT, f.handle, off, f.data.subarray(off, off + 10_000));
      }));
      for (const f of files) {
        await tiny.vfs.release(ROOT, f.handle);
        assert.ok((await readAll(f.ino, tiny)).equals(f.data));
      }
    });

    if (row.compacts) {
      it('compacts a fragmented chunk into one slice with the same content and deletes the old objects', async function () {
        const e = await rig.vfs.create(ROOT, ROOT_INODE, n('frag'), 0o644, 0);
        const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
        const model = Buffer.alloc(3 * BLOCK);
        for (let i = 0; i < 12; i++) {
          const off = (i * 13_331) % (2 * BLOCK);
          const d = bytes(BLOCK / 2, 40 + i);
          await rig.vfs.write(ROOT, handle, off, d);
          d.copy(model, off);
          await rig.vfs.fsync(ROOT, handle);
        }
        await rig.vfs.release(ROOT, handle);
        const len = (await rig.vfs.getattr(ROOT, e.ino)).length;
        const want = model.subarray(0, len);
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 12);
        assert.equal(await rig.vfs.compact(ROOT, e.ino), 1);
        await rig.settle();
        const slices = await rig.meta.readSlices(e.ino, toChunkIndex(0));
        assert.equal(slices.length, 1);
        assert.ok((await readAll(e.ino)).equals(want));
        assert.ok((await specRead(rig, e.ino)).equals(want));
        const id = slices[0]?.id ?? 0n;
        const keys = [...(await rig.objects()).keys()];
        assert.ok(keys.length > 0 && keys.every((k) => k.includes(`/${id}_`)), `only the new slice's objects remain: ${keys.join(' ')}`);
      });

      it('compacts in the background when a fragmented chunk is read', async function () {
        const e = await rig.vfs.create(ROOT, ROOT_INODE, n('frag2'), 0o644, 0);
        const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
        for (let i = 5; i >= 0; i--) {
          await rig.vfs.write(ROOT, handle, i * 1000, bytes(1000, 50 + i));
          await rig.vfs.fsync(ROOT, handle);
        }
        await rig.vfs.release(ROOT, handle);
        const want = Buffer.concat(Array.from({ length: 6 }, (_, i) => bytes(1000, 50 + i)));
        assert.ok((await readAll(e.ino)).equals(want));
        await rig.settle();
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 1);
        assert.ok((await readAll(e.ino)).equals(want));
      });
    }

    it('flushes everything at close, and a new Vfs over the same volume reads it', async function () {
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('c'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
      await rig.vfs.write(ROOT, handle, 0, bytes(BLOCK + 3, 60));
      await rig.vfs.close({ drain: true });
      assert.ok((await specRead(rig, e.ino)).equals(bytes(BLOCK + 3, 60)));
      assert.equal(rig.vfs.openHandles, 0);
    });
  });
}
