import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileHandleCodec, exportIdOf } from '../../../src/protocols/nfs/nfs3/filehandle.js';
import {
  NFS3_OK, NFS3ERR_BADHANDLE, NFS3ERR_IO, NFS3ERR_JUKEBOX, NFS3ERR_NOENT, NFS3ERR_STALE, NFS_PROGRAM, NFS_V3, NFSPROC3_GETATTR, NFSPROC3_LOOKUP,
  NFSPROC3_MKDIR, NFSPROC3_REMOVE, UNSTABLE, encodeDiropargs3, encodeSattr3,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { GARBAGE_ARGS, PROC_UNAVAIL, PROG_UNAVAIL, SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { XdrReader } from '../../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { startNfsServer } from '../../../src/protocols/nfs/server.js';
import { Errno, FsError } from '../../../src/util/errno.js';
import { toIno } from '../../../src/vfs/types.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';

const NLM_PROGRAM = 100021;

describe('NFSv3 server robustness: malformed calls, forged and stale handles, retransmissions', function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
  });

  afterEach(async () => {
    await h.close();
  });

  it('answers truncated and garbage arguments with GARBAGE_ARGS and keeps serving the connection', async () => {
    const rpc = h.client.rpc;
    const cred = sysCred(0, 0);
    assert.equal((await rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_LOOKUP, cred, args: Buffer.from([0, 0, 0, 32, 1, 2, 3, 4]) })).stat, GARBAGE_ARGS);
    assert.equal((await rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_GETATTR, cred, args: Buffer.alloc(0) })).stat, GARBAGE_ARGS);
    const huge = new XdrWriter().u32(65).opaqueFixed(Buffer.alloc(65), 65);
    assert.equal((await rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_GETATTR, cred, args: huge })).stat, GARBAGE_ARGS, 'a handle over 64 bytes');
    const badEnum = new XdrWriter();
    encodeDiropargs3(badEnum, { dir: h.root, name: Buffer.from('x') });
    badEnum.u32(9);
    assert.equal((await rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: 8 /* CREATE */, cred, args: badEnum })).stat, GARBAGE_ARGS, 'createmode 9');
    assert.equal((await h.client.getattr(h.root)).status, NFS3_OK);
  });

  it('answers NLM (lock manager) calls with PROG_UNAVAIL and unknown procedures with PROC_UNAVAIL', async () => {
    assert.equal((await h.client.rpc.call({ prog: NLM_PROGRAM, vers: 4, proc: 0 })).stat, PROG_UNAVAIL);
    assert.equal((await h.client.rpc.call({ prog: NFS_PROGRAM, vers: NFS_V3, proc: 22 })).stat, PROC_UNAVAIL);
  });

  it('answers BADHANDLE for forged, truncated or foreign-secret handles', async () => {
    const forged = Buffer.from(h.root);
    forged[20] = (forged[20] ?? 0) ^ 0xff;
    assert.equal((await h.client.getattr(forged)).status, NFS3ERR_BADHANDLE);
    assert.equal((await h.client.getattr(h.root.subarray(0, 16))).status, NFS3ERR_BADHANDLE);
    assert.equal((await h.client.getattr(Buffer.alloc(0))).status, NFS3ERR_BADHANDLE);
    const other = new FileHandleCodec(h.volume.setting.UUID, 'another secret').encode(exportIdOf('/'), toIno(1));
    assert.equal((await h.client.getattr(other)).status, NFS3ERR_BADHANDLE);
    const lookup = await h.client.lookup(forged, 'x');
    assert.deepEqual([lookup.status, lookup.dirAttr], [NFS3ERR_BADHANDLE, null]);
  });

  it('answers STALE for the handle of a removed file, of another volume, and of an inode that never existed', async () => {
    const made = await h.client.create(h.root, 'doomed');
    assert.ok(made.fh);
    assert.equal((await h.client.remove(h.root, 'doomed')).status, NFS3_OK);
    assert.equal((await h.client.getattr(made.fh)).status, NFS3ERR_STALE);
    assert.equal((await h.client.read(made.fh, 0, 10)).status, NFS3ERR_STALE);
    const foreign = new FileHandleCodec('11111111-2222-3333-4444-555555555555', '').encode(exportIdOf('/'), toIno(1));
    assert.equal((await h.client.getattr(foreign)).status, NFS3ERR_STALE);
    const never = new FileHandleCodec(h.volume.setting.UUID, '').encode(exportIdOf('/'), toIno(987654321));
    assert.equal((await h.client.getattr(never)).status, NFS3ERR_STALE);
  });

  it('a handle stays valid on a second server instance over the same volume (restart, other appliance)', async () => {
    const made = await h.client.mkdir(h.root, 'keep');
    assert.ok(made.fh);
    const second = await startNfsServer({
      vfs: h.volume.vfs, volumeUuid: h.volume.setting.UUID, exports: [{ path: '/' }], nfsPort: 0, mountPort: 0, host: '127.0.0.1',
    });
    try {
      const other = await Nfs3TestClient.connect(second.ports.nfs, sysCred(0, 0));
      const r = await other.getattr(made.fh);
      await other.close();
      assert.equal(r.status, NFS3_OK);
      assert.equal(r.attr?.fileid, made.attr?.fileid);
    } finally {
      await second.close();
    }
  });

  it('a retransmitted REMOVE (same xid) gets the first reply and runs once; a new xid runs again', async () => {
    await h.client.create(h.root, 'once');
    const args = new XdrWriter();
    encodeDiropargs3(args, { dir: h.root, name: Buffer.from('once') });
    const spec = { prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_REMOVE, cred: sysCred(0, 0), args: args.toBuffer() };
    const xid = h.client.rpc.newXid();
    const [a, b] = await Promise.all([h.client.rpc.call({ ...spec, xid }), h.client.rpc.call({ ...spec, xid })]);
    const c = await h.client.rpc.call({ ...spec, xid });
    for (const reply of [a, b, c]) {
      assert.equal(reply.stat, SUCCESS);
      if (reply.stat === SUCCESS) assert.equal(reply.body.readUInt32BE(0), NFS3_OK);
    }
    const fresh = await h.client.rpc.call(spec);
    assert.ok(fresh.stat === SUCCESS);
    assert.equal(new XdrReader(fresh.body).u32(), NFS3ERR_NOENT);
  });

  it('a retransmitted MKDIR returns the same handle instead of EXIST', async () => {
    const args = new XdrWriter();
    encodeDiropargs3(args, { dir: h.root, name: Buffer.from('made-once') });
    encodeSattr3(args, { mode: 0o755 });
    const spec = { prog: NFS_PROGRAM, vers: NFS_V3, proc: NFSPROC3_MKDIR, cred: sysCred(0, 0), args: args.toBuffer(), xid: h.client.rpc.newXid() };
    const first = await h.client.rpc.call(spec);
    const again = await h.client.rpc.call(spec);
    assert.ok(first.stat === SUCCESS && again.stat === SUCCESS);
    assert.deepEqual(again.body, first.body);
    assert.equal(new XdrReader(again.body).u32(), NFS3_OK);
    assert.equal((await h.client.lookup(h.root, 'made-once')).status, NFS3_OK);
  });
});

describe('NFSv3 with the object store out of reach', function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0), faulty: true });
  });

  afterEach(async () => {
    await h.close();
  });

  it('READ and COMMIT answer JUKEBOX (the client retries), the verifier changes for the lost writes, and both work once the store is back', async () => {
    const faults = h.faults ?? assert.fail('faulty harness without faults');
    const made = await h.client.create(h.root, 'remote');
    assert.ok(made.fh);
    const data = Buffer.alloc(50_000, 3);
    assert.equal((await h.client.write(made.fh, 0, data, UNSTABLE)).status, NFS3_OK);
    assert.equal((await h.client.commit(made.fh)).status, NFS3_OK);
    const away = new FsError(Errno.ETIMEDOUT, 'get: connect ECONNREFUSED (after 5 tries)');

    faults.failNext('get', 1, away);
    const read = await h.client.read(made.fh, 0, 4096);
    assert.equal(read.status, NFS3ERR_JUKEBOX);
    assert.deepEqual((await h.client.read(made.fh, 0, 60_000)).data, data, 'the retry reads every byte');

    const w = await h.client.write(made.fh, 0, Buffer.alloc(10_000, 9), UNSTABLE);
    faults.failNext('put', 1, away);
    const commit = await h.client.commit(made.fh);
    assert.equal(commit.status, NFS3ERR_JUKEBOX);
    assert.equal(h.server.verifier.changes, 1);
    const resent = await h.client.write(made.fh, 0, Buffer.alloc(10_000, 9), UNSTABLE);
    assert.notDeepEqual(resent.verf, w.verf, 'the client sees a new verifier and resends');
    assert.equal((await h.client.commit(made.fh)).status, NFS3_OK);
    assert.deepEqual((await h.client.read(made.fh, 0, 10_000)).data, Buffer.alloc(10_000, 9));
  });
});

describe('NFSv3 write verifier when buffered data cannot be stored', function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
  });

  afterEach(async () => {
    await h.close();
  });

  it('a failed COMMIT answers an error and changes the verifier, so the client resends its unstable writes', async () => {
    const made = await h.client.create(h.root, 'unlucky');
    assert.ok(made.fh);
    const objects = join(h.dir, 'objects', 'nfstest');
    rmSync(objects, { recursive: true, force: true });
    mkdirSync(join(h.dir, 'objects'), { recursive: true });
    writeFileSync(objects, 'not a directory: every block upload fails');
    const w = await h.client.write(made.fh, 0, Buffer.alloc(10_000, 7), UNSTABLE);
    assert.equal(w.status, NFS3_OK);
    const failed = await h.client.commit(made.fh);
    assert.equal(failed.status, NFS3ERR_IO);
    assert.notEqual(failed.wcc.after, null, 'the failure still carries wcc_data');
    assert.equal(h.server.verifier.changes, 1);
    rmSync(objects, { force: true });
    const resent = await h.client.write(made.fh, 0, Buffer.alloc(10_000, 7), UNSTABLE);
    assert.notDeepEqual(resent.verf, w.verf, 'the verifier changed');
    const ok = await h.client.commit(made.fh);
    assert.equal(ok.status, NFS3_OK);
    assert.deepEqual(ok.verf, resent.verf);
    assert.deepEqual((await h.client.read(made.fh, 0, 20_000)).data, Buffer.alloc(10_000, 7));
  });
});
