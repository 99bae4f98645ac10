/**
 * The durability point (DESIGN.md "Write path and durability", spec §E.1, §D.6), on every matrix
 * row: fsync answers only once the blocks are durable (in the store, or fsynced in write-back
 * staging) AND the slice record is in meta; a failed upload is reported and leaves nothing behind;
 * aborts reach the waits; every operation writes one access-log line.
 */
import assert from 'node:assert/strict';
import { Errno, isFsError } from '../../src/util/errno.js';
import { toChunkIndex } from '../../src/meta/types.js';
import { MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { CountingStore, recordingLogger } from '../cache/helpers.js';
import { BLOCK, bytes, ROWS, type Rig, type Row } from './rig.js';
import { rejectsWith } from './suite.js';

const ROOT = ROOT_CREDENTIALS;
const n = (s: string): Buffer => Buffer.from(s);

/** True once `p` has settled (checked after letting pending callbacks run). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
}

for (const row of ROWS) {
  describe(`Vfs durability (${row.name})`, function () {
    this.timeout(60_000);
    const rigs: Rig[] = [];
    let counting: CountingStore | undefined;

    async function make(opts: Parameters<Row['make']>[0] = {}): Promise<{ rig: Rig; store: CountingStore }> {
      const rig = await row.make({ ...opts, wrapStore: (s) => (counting = new CountingStore(s)) });
      rigs.push(rig);
      if (counting === undefined) throw new Error('store not wrapped');
      return { rig, store: counting };
    }

    afterEach(async function () {
      counting?.putGate.open();
      for (const r of rigs.splice(0)) await r.close();
    });

    it(row.writeBack
      ? 'fsync answers once blocks are staged and the record committed, before the upload'
      : 'fsync answers only after the blocks are in the store and the record is committed', async function () {
      const { rig, store } = await make();
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('d'), 0o644, 0);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      store.putGate.close();
      const data = bytes(2 * BLOCK + 10, 1);
      await rig.vfs.write(ROOT, handle, 0, data);
      const sync = rig.vfs.fsync(ROOT, handle);
      if (row.writeBack) {
        await sync;
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 1);
        assert.ok((await rig.vfs.read(ROOT, handle, 0, data.length)).equals(data), 'staged blocks are readable');
        assert.equal(rig.volume.cache.pendingUploads(), 3);
        store.putGate.open();
        await rig.volume.cache.drain();
        assert.equal((await rig.objects()).size, 3);
      } else {
        await store.until(() => store.putCalls.length >= 3);
        assert.equal(await settled(sync), false, 'fsync must wait for the uploads');
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 0, 'no record before its blocks');
        store.putGate.open();
        await sync;
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 1);
      }
      await rig.vfs.release(ROOT, handle);
    });

    if (!row.writeBack) {
      it('a failed upload is reported by fsync and leaves no object and no record', async function () {
        const { rig, store } = await make({ storage: { retry: false } });
        const e = await rig.vfs.create(ROOT, ROOT_INODE, n('f'), 0o644, 0);
        const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
        store.failPuts = 1;
        await rig.vfs.write(ROOT, handle, 0, bytes(3 * BLOCK, 2));
        await assert.rejects(rig.vfs.fsync(ROOT, handle), (err: unknown) => isFsError(err, Errno.EIO));
        assert.equal((await rig.meta.readSlices(e.ino, toChunkIndex(0))).length, 0);
        assert.equal((await rig.objects()).size, 0);
        // the next write and fsync work again
        await rig.vfs.write(ROOT, handle, 0, bytes(100, 3));
        await rig.vfs.fsync(ROOT, handle);
        await rig.vfs.release(ROOT, handle);
        assert.ok((await rig.vfs.read(ROOT, e.ino, 0, 1000)).equals(bytes(100, 3)));
      });
    }

    if (!row.writeBack) {
      it('an abort stops a write waiting for buffer memory with the abort reason', async function () {
        const { rig, store } = await make({ bufferBytes: 4 * BLOCK });
        const e = await rig.vfs.create(ROOT, ROOT_INODE, n('a'), 0o644, 0);
        const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_WRITE);
        store.putGate.close();
        // three full blocks hang in their uploads and hold three of the four budget blocks
        await rig.vfs.write(ROOT, handle, 0, bytes(3 * BLOCK, 4));
        const ac = new AbortController();
        const blocked = rig.vfs.write(ROOT, handle, 3 * BLOCK, bytes(BLOCK, 5), ac.signal);
        assert.equal(await settled(blocked), false, 'the write waits for memory');
        const reason = new Error('client went away');
        ac.abort(reason);
        await assert.rejects(blocked, (err: unknown) => err === reason);
        store.putGate.open();
        await rig.vfs.release(ROOT, handle);
        assert.ok((await rig.vfs.read(ROOT, e.ino, 0, 4 * BLOCK)).equals(bytes(3 * BLOCK, 4)), 'the aborted write left nothing');
      });
    }

    it('writes one debug access-log line per operation, with the errno of a failure', async function () {
      const { logger, lines } = recordingLogger();
      const { rig } = await make({ logger });
      const e = await rig.vfs.create(ROOT, ROOT_INODE, n('log'), 0o644, 0);
      await rejectsWith(rig.vfs.lookup(ROOT, ROOT_INODE, n('missing')), Errno.ENOENT);
      const { handle } = await rig.vfs.open(ROOT, e.ino, MODE_READ | MODE_WRITE);
      await rig.vfs.write(ROOT, handle, 0, bytes(10, 6));
      await rig.vfs.read(ROOT, handle, 0, 10);
      for await (const _ of rig.vfs.readdir(ROOT, ROOT_INODE)) { /* drain */ }
      await rig.vfs.release(ROOT, handle);
      const ops = lines.filter((l) => l['module'] === 'vfs' && l['msg'] === l['op']);
      assert.deepEqual(ops.map((l) => l['op']), ['create', 'lookup', 'open', 'write', 'read', 'readdir', 'release']);
      assert.equal(ops[1]?.['errno'], 'ENOENT');
      assert.equal(ops[0]?.['name'], 'log');
      assert.equal(ops[5]?.['entries'], 3);
      assert.ok(ops.every((l) => typeof l['ms'] === 'number' && l['uid'] === 0));
    });
  });
}
