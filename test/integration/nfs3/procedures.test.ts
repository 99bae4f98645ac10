import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { exportIdOf, volumeIdOf } from '../../../src/protocols/nfs/nfs3/filehandle.js';
import {
  ACCESS3_DELETE, ACCESS3_EXECUTE, ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ, EXCLUSIVE, FILE_SYNC, GUARDED,
  NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NFS3_OK, NFS3ERR_ACCES, NFS3ERR_BADTYPE, NFS3ERR_FBIG, NFS3ERR_EXIST, NFS3ERR_INVAL,
  NFS3ERR_ISDIR, NFS3ERR_NAMETOOLONG, NFS3ERR_NOENT, NFS3ERR_NOT_SYNC, NFS3ERR_NOTDIR, NFS3ERR_NOTEMPTY, UNSTABLE, DATA_SYNC,
  NFS_PROGRAM, NFS_V3, NFSPROC3_NULL,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';

describe('NFSv3 procedures over a real vfs (RFC 1813 §3.3)', function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], dirs: [] });
    // a world-writable working directory owned by root, so uid 1000 can create
    const c = await h.connect(sysCred(0, 0));
    await c.setattr(h.root, { mode: 0o1777 });
  });

  afterEach(async () => {
    await h.close();
  });

  const mkfile = async (name: string, mode = 0o644): Promise<Buffer> => {
    const r = await h.client.create(h.root, name, { attrs: { mode } });
    assert.equal(r.status, NFS3_OK);
    assert.ok(r.fh);
    return r.fh;
  };

  it('NULL answers with an empty SUCCESS', async () => {
    const reply = await h.client.rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_NULL });
    assert.equal(reply.stat, SUCCESS);
  });

  it('GETATTR of the export root: a directory, fileid 1, fsid from the volume UUID and the export', async () => {
    const r = await h.client.getattr(h.root);
    assert.equal(r.status, NFS3_OK);
    assert.equal(r.attr?.type, NF3DIR);
    assert.equal(r.attr?.fileid, 1n);
    assert.equal(r.attr?.fsid, volumeIdOf(h.volume.setting.UUID) ^ BigInt(exportIdOf('/')));
    assert.equal(r.attr?.mode, 0o1777);
  });

  it('CREATE, WRITE (unstable), COMMIT, READ round-trip the bytes with one verifier', async () => {
    const fh = await mkfile('data.bin');
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const w1 = await h.client.write(fh, 0, data.subarray(0, 200_000), UNSTABLE);
    const w2 = await h.client.write(fh, 200_000, data.subarray(200_000), UNSTABLE);
    assert.equal(w1.status, NFS3_OK);
    assert.equal(w1.count, 200_000);
    assert.equal(w1.committed, UNSTABLE);
    assert.deepEqual(w1.verf, w2.verf);
    assert.equal(w2.wcc.before?.size, 200_000n);
    assert.equal(w2.wcc.after?.size, 300_000n);
    const c = await h.client.commit(fh);
    assert.equal(c.status, NFS3_OK);
    assert.deepEqual(c.verf, w1.verf);
    // post-op attributes of the sync: the committed length, as a GETATTR now sees them
    assert.equal(c.wcc.after?.size, 300_000n);
    assert.deepEqual(c.wcc.after, (await h.client.getattr(fh)).attr);
    const r = await h.client.read(fh, 0, 1024 * 1024);
    assert.equal(r.status, NFS3_OK);
    assert.equal(r.eof, true);
    assert.ok(r.data?.equals(data));
    const mid = await h.client.read(fh, 1000, 10);
    assert.equal(mid.eof, false);
    assert.ok(mid.data?.equals(data.subarray(1000, 1010)));
    const past = await h.client.read(fh, 400_000, 10);
    assert.deepEqual([past.status, past.eof, past.data?.length], [NFS3_OK, true, 0]);
  });

  it('many 1 MiB READs of different files in flight on one connection each carry their own bytes while reply buffers are reused', async () => {
    const MiB = 1024 * 1024;
    const files: { fh: Buffer; data: Buffer }[] = [];
    for (let i = 0; i < 3; i++) {
      const fh = await mkfile(`pooled${i}.bin`);
      const data = randomBytes(4 * MiB);
      for (let off = 0; off < data.length; off += MiB) assert.equal((await h.client.write(fh, off, data.subarray(off, off + MiB), FILE_SYNC)).status, NFS3_OK);
      files.push({ fh, data });
    }
    for (let round = 0; round < 3; round++) {
      const reads = files.flatMap((f) => [0, 1, 2, 3].map((i) => ({ f, off: i * MiB, reply: h.client.read(f.fh, i * MiB, MiB) })));
      for (const r of reads) {
        const got = await r.reply;
        assert.equal(got.status, NFS3_OK);
        assert.ok(got.data?.equals(r.f.data.subarray(r.off, r.off + MiB)), `round ${round}: bytes at ${r.off}`);
      }
    }
  });

  it('a client reading in order one 1 MiB READ at a time (nfs-cp) gets every byte on the embedded volume, also bytes written between two READs', async () => {
    await h.close();
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], dirs: [], engine: 'sqlite', inPlace: true });
    const MiB = 1024 * 1024;
    const fh = await mkfile('inorder.bin');
    const data = randomBytes(6 * MiB + 1000);
    for (let off = 0; off < data.length; off += MiB) assert.equal((await h.client.write(fh, off, data.subarray(off, off + MiB), UNSTABLE)).status, NFS3_OK);
    assert.equal((await h.client.commit(fh)).status, NFS3_OK);
    const readAt = async (off: number): Promise<Buffer> => {
      const r = await h.client.read(fh, off, MiB);
      assert.equal(r.status, NFS3_OK);
      assert.equal(r.eof, off + MiB >= data.length);
      return r.data ?? Buffer.alloc(0);
    };
    for (const off of [0, MiB]) assert.ok((await readAt(off)).equals(data.subarray(off, off + MiB)), `bytes at ${off}`);
    // the range at 2 MiB has been read ahead by now: write into it, then read it
    assert.equal((await h.client.write(fh, 2 * MiB + 5, Buffer.from('fresh'), UNSTABLE)).status, NFS3_OK);
    data.write('fresh', 2 * MiB + 5);
    assert.ok((await readAt(2 * MiB)).equals(data.subarray(2 * MiB, 3 * MiB)), 'the unstable write is read back');
    assert.equal((await h.client.write(fh, 3 * MiB + 7, Buffer.from('synced'), FILE_SYNC)).status, NFS3_OK);
    data.write('synced', 3 * MiB + 7);
    for (let off = 3 * MiB; off < data.length; off += MiB) assert.ok((await readAt(off)).equals(data.subarray(off, off + MiB)), `bytes at ${off}`);
  });

  it('FILE_SYNC and DATA_SYNC writes answer FILE_SYNC, with the attributes after the sync', async () => {
    const fh = await mkfile('sync.txt');
    const w1 = await h.client.write(fh, 0, Buffer.from('abc'), FILE_SYNC);
    assert.equal(w1.committed, FILE_SYNC);
    assert.equal(w1.wcc.after?.size, 3n);
    const w2 = await h.client.write(fh, 3, Buffer.from('def'), DATA_SYNC);
    assert.equal(w2.committed, FILE_SYNC);
    assert.deepEqual([w2.wcc.before?.size, w2.wcc.after?.size], [3n, 6n]);
    assert.deepEqual(w2.wcc.after, (await h.client.getattr(fh)).attr);
    assert.equal((await h.client.read(fh, 0, 100)).data?.toString(), 'abcdef');
  });

  it('CREATE answers the directory wcc_data: pre-op attributes as before the call, post-op after', async () => {
    await mkfile('first');
    const before = await h.client.getattr(h.root);
    const r = await h.client.create(h.root, 'second');
    assert.equal(r.status, NFS3_OK);
    assert.deepEqual(r.dirWcc.before, { size: before.attr?.size, mtime: before.attr?.mtime, ctime: before.attr?.ctime });
    const after = await h.client.getattr(h.root);
    assert.deepEqual(r.dirWcc.after, after.attr);
    assert.equal(r.attr?.type, NF3REG);
    assert.equal(r.attr?.uid, 1000);
  });

  it('REMOVE and RMDIR answer wcc_data of the directory; a failure still carries it', async () => {
    await mkfile('gone');
    const rm = await h.client.remove(h.root, 'gone');
    assert.equal(rm.status, NFS3_OK);
    assert.ok(rm.wcc.before !== null && rm.wcc.after !== null);
    const again = await h.client.remove(h.root, 'gone');
    assert.equal(again.status, NFS3ERR_NOENT);
    assert.ok(again.wcc.before !== null && again.wcc.after !== null, 'failure wcc_data present');
  });

  it('SETATTR changes mode, size and times; a guard with another ctime is NOT_SYNC and changes nothing', async () => {
    const fh = await mkfile('attrs', 0o600);
    await h.client.write(fh, 0, Buffer.alloc(5000, 1), FILE_SYNC);
    const s = await h.client.setattr(fh, { mode: 0o640, size: 100n, mtime: { seconds: 1_000_000, nseconds: 5 }, atime: 'server' });
    assert.equal(s.status, NFS3_OK);
    assert.equal(s.wcc.before?.size, 5000n);
    assert.deepEqual([s.wcc.after?.mode, s.wcc.after?.size, s.wcc.after?.mtime], [0o640, 100n, { seconds: 1_000_000, nseconds: 5 }]);
    const ctime = s.wcc.after?.ctime;
    assert.ok(ctime);
    const guarded = await h.client.setattr(fh, { mode: 0o600 }, { seconds: ctime.seconds + 1, nseconds: ctime.nseconds });
    assert.equal(guarded.status, NFS3ERR_NOT_SYNC);
    assert.equal((await h.client.getattr(fh)).attr?.mode, 0o640);
    const ok = await h.client.setattr(fh, { mode: 0o600 }, ctime);
    assert.equal(ok.status, NFS3_OK);
    assert.equal(ok.wcc.after?.mode, 0o600);
  });

  it('LOOKUP finds a name, answers NOENT with the directory attributes, and `..` of the root is the root', async () => {
    const fh = await mkfile('here');
    const found = await h.client.lookup(h.root, 'here');
    assert.deepEqual(found.fh, fh);
    const missing = await h.client.lookup(h.root, 'nothere');
    assert.equal(missing.status, NFS3ERR_NOENT);
    assert.equal(missing.dirAttr?.fileid, 1n);
    const up = await h.client.lookup(h.root, '..');
    assert.deepEqual(up.fh, h.root);
  });

  it('CREATE GUARDED of an existing name is EXIST; UNCHECKED opens it and applies only the size', async () => {
    const fh = await mkfile('exists');
    await h.client.write(fh, 0, Buffer.from('hello world'), FILE_SYNC);
    assert.equal((await h.client.create(h.root, 'exists', { mode: GUARDED, attrs: { mode: 0o600 } })).status, NFS3ERR_EXIST);
    const r = await h.client.create(h.root, 'exists', { attrs: { mode: 0o600, size: 5n } });
    assert.equal(r.status, NFS3_OK);
    assert.deepEqual(r.fh, fh);
    assert.deepEqual([r.attr?.size, r.attr?.mode], [5n, 0o644]);
  });

  it('CREATE EXCLUSIVE stores the verifier: the same verifier again succeeds with the same file, another one is EXIST', async () => {
    const verf = Buffer.from('0123abcd');
    const first = await h.client.create(h.root, 'excl', { mode: EXCLUSIVE, verf });
    assert.equal(first.status, NFS3_OK);
    assert.equal(first.attr?.mtime.seconds, verf.readUInt32BE(0));
    assert.equal(first.attr?.atime.seconds, verf.readUInt32BE(4));
    const retry = await h.client.create(h.root, 'excl', { mode: EXCLUSIVE, verf });
    assert.equal(retry.status, NFS3_OK);
    assert.deepEqual(retry.fh, first.fh);
    assert.equal((await h.client.create(h.root, 'excl', { mode: EXCLUSIVE, verf: Buffer.from('zzzzzzzz') })).status, NFS3ERR_EXIST);
    assert.ok(first.fh);
    const set = await h.client.setattr(first.fh, { mode: 0o644, mtime: 'server', atime: 'server' });
    assert.equal(set.status, NFS3_OK);
    assert.notEqual(set.wcc.after?.mtime.seconds, verf.readUInt32BE(0));
  });

  it('MKDIR, SYMLINK/READLINK, MKNOD fifo and devices, LINK with nlink', async () => {
    const d = await h.client.mkdir(h.root, 'dir', { mode: 0o750 });
    assert.deepEqual([d.status, d.attr?.type, d.attr?.mode], [NFS3_OK, NF3DIR, 0o750]);
    assert.equal((await h.client.mkdir(h.root, 'dir')).status, NFS3ERR_EXIST);
    const s = await h.client.symlink(h.root, 'ln', 'dir/target');
    assert.deepEqual([s.status, s.attr?.type], [NFS3_OK, NF3LNK]);
    assert.ok(s.fh);
    assert.equal((await h.client.readlink(s.fh)).target, 'dir/target');
    const fifo = await h.client.mknod(h.root, 'fifo', NF3FIFO);
    assert.deepEqual([fifo.status, fifo.attr?.type], [NFS3_OK, NF3FIFO]);
    const root = await h.connect(sysCred(0, 0));
    const chr = await root.mknod(h.root, 'null', NF3CHR, { mode: 0o666 }, { specdata1: 1, specdata2: 3 });
    assert.deepEqual([chr.status, chr.attr?.type, chr.attr?.rdev], [NFS3_OK, NF3CHR, { specdata1: 1, specdata2: 3 }]);
    const blk = await root.mknod(h.root, 'blk', NF3BLK, { mode: 0o600 }, { specdata1: 259, specdata2: 70000 });
    assert.deepEqual(blk.attr?.rdev, { specdata1: 259, specdata2: 70000 });
    assert.equal((await h.client.mknod(h.root, 'reg', NF3REG)).status, NFS3ERR_BADTYPE);
    const f = await mkfile('orig');
    const l = await h.client.link(f, h.root, 'alias');
    assert.deepEqual([l.status, l.attr?.nlink], [NFS3_OK, 2]);
    assert.ok(l.dirWcc.before !== null && l.dirWcc.after !== null);
    assert.deepEqual((await h.client.lookup(h.root, 'alias')).fh, f);
  });

  it('RENAME over an existing file replaces it; both directories get wcc_data', async () => {
    const a = await mkfile('a');
    await mkfile('b');
    const d = await h.client.mkdir(h.root, 'sub');
    assert.ok(d.fh);
    const r = await h.client.rename(h.root, 'a', h.root, 'b');
    assert.equal(r.status, NFS3_OK);
    assert.deepEqual((await h.client.lookup(h.root, 'b')).fh, a);
    assert.equal((await h.client.lookup(h.root, 'a')).status, NFS3ERR_NOENT);
    const moved = await h.client.rename(h.root, 'b', d.fh, 'c');
    assert.equal(moved.status, NFS3_OK);
    assert.ok(moved.fromWcc.after !== null && moved.toWcc.after !== null);
    assert.notDeepEqual(moved.toWcc.before, null);
    assert.deepEqual((await h.client.lookup(d.fh, 'c')).fh, a, 'the handle survives the rename');
    assert.equal((await h.client.getattr(a)).status, NFS3_OK);
  });

  it('answers the errno statuses a client can provoke', async () => {
    const f = await mkfile('file');
    const d = await h.client.mkdir(h.root, 'full');
    assert.ok(d.fh);
    await h.client.create(d.fh, 'x');
    assert.equal((await h.client.rmdir(h.root, 'full')).status, NFS3ERR_NOTEMPTY);
    assert.equal((await h.client.rmdir(h.root, 'file')).status, NFS3ERR_NOTDIR);
    assert.equal((await h.client.lookup(f, 'x')).status, NFS3ERR_NOTDIR);
    assert.equal((await h.client.create(h.root, 'n'.repeat(256))).status, NFS3ERR_NAMETOOLONG);
    assert.equal((await h.client.read(d.fh, 0, 10)).status, NFS3ERR_ISDIR);
    assert.equal((await h.client.write(d.fh, 0, Buffer.from('x'))).status, NFS3ERR_ISDIR);
    assert.equal((await h.client.readlink(f)).status, NFS3ERR_INVAL);
    assert.equal((await h.client.rename(h.root, 'full', d.fh, 'inside')).status, NFS3ERR_INVAL);
    const other = await h.connect(sysCred(2000, 2000));
    assert.equal((await other.write(f, 0, Buffer.from('no'))).status, NFS3ERR_ACCES);
    assert.equal((await other.setattr(f, { mode: 0o777 })).status, 1 /* NFS3ERR_PERM */);
    assert.equal((await other.remove(d.fh, 'x')).status, NFS3ERR_ACCES);
  });

  it('answers FBIG for a write past the largest file offset', async () => {
    const f = await mkfile('far');
    assert.equal((await h.client.write(f, 1n << 53n, Buffer.from('x'))).status, NFS3ERR_FBIG);
    assert.equal((await h.client.setattr(f, { size: 1n << 60n })).status, NFS3ERR_FBIG);
  });

  it('lets the owner write a file whose mode forbids it (knfsd owner override), not others', async () => {
    const fh = await mkfile('readonly', 0o444);
    assert.equal((await h.client.write(fh, 0, Buffer.from('mine'), FILE_SYNC)).status, NFS3_OK);
    assert.equal((await h.client.read(fh, 0, 10)).data?.toString(), 'mine');
    const other = await h.connect(sysCred(2000, 2000));
    assert.equal((await other.write(fh, 0, Buffer.from('x'))).status, NFS3ERR_ACCES);
    assert.equal((await other.read(fh, 0, 10)).status, NFS3_OK);
  });

  it('READ sends no data to a caller without read permission, small or pooled, and none past any file length', async () => {
    const MiB = 1024 * 1024;
    const fh = await mkfile('private', 0o600);
    const body = Buffer.alloc(2 * MiB, 7);
    assert.equal((await h.client.write(fh, 0, body.subarray(0, MiB), FILE_SYNC)).status, NFS3_OK);
    assert.equal((await h.client.write(fh, MiB, body.subarray(MiB), FILE_SYNC)).status, NFS3_OK);
    const other = await h.connect(sysCred(2000, 2000));
    for (let round = 0; round < 3; round++) {
      for (const count of [10, MiB]) {
        const denied = await other.read(fh, 0, count);
        assert.equal(denied.status, NFS3ERR_ACCES);
        assert.equal(denied.data, undefined);
      }
    }
    // the owner's large reads still get every byte (the denied reads gave their pooled buffers back)
    for (let round = 0; round < 3; round++) {
      const mine = await h.client.read(fh, round % 2 === 0 ? 0 : MiB, MiB);
      assert.equal(mine.status, NFS3_OK);
      assert.ok(mine.data?.equals(body.subarray(0, MiB)));
    }
    const far = await h.client.read(fh, 1n << 63n, 10);
    assert.equal(far.status, NFS3_OK);
    assert.equal(far.data?.length, 0);
    assert.equal(far.eof, true);
  });

  it('ACCESS grants by mode bits per right and per caller', async () => {
    const fh = await mkfile('acc', 0o644);
    const all = ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE | ACCESS3_DELETE | ACCESS3_LOOKUP;
    assert.equal((await h.client.access(fh, all)).access, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND);
    const other = await h.connect(sysCred(2000, 2000));
    assert.equal((await other.access(fh, all)).access, ACCESS3_READ);
    const dir = await h.client.access(h.root, all);
    assert.equal(dir.access, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE | ACCESS3_LOOKUP);
  });

  it('FSINFO advertises 1 MiB transfers, 1 ns times and link/symlink/homogeneous/settime; FSSTAT and PATHCONF answer', async () => {
    const i = await h.client.fsinfo(h.root);
    assert.deepEqual([i.status, i.rtmax, i.rtpref, i.wtmax, i.wtpref, i.dtpref], [NFS3_OK, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 64 << 10]);
    assert.deepEqual(i.timeDelta, { seconds: 0, nseconds: 1 });
    assert.equal(i.properties, 0x1b);
    const s = await h.client.fsstat(h.root);
    assert.equal(s.status, NFS3_OK);
    assert.ok((s.tbytes ?? 0n) > 0n);
    const p = await h.client.pathconf(h.root);
    assert.deepEqual([p.status, p.nameMax, p.noTrunc, p.caseInsensitive, p.casePreserving], [NFS3_OK, 255, true, false, true]);
  });
});
