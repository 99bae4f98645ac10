import assert from 'node:assert/strict';
import { MOUNT_PROG, MOUNT_V1, MOUNT_V3, MOUNTPROC3_NULL } from '../../../src/protocols/nfs/mount/types.js';
import { FILE_SYNC, NFS3_OK, NFS3ERR_STALE, NFS_PROGRAM, NFS_V3 } from '../../../src/protocols/nfs/nfs3/types.js';
import { pmapGetport } from '../../../src/protocols/nfs/portmap/client.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../src/protocols/nfs/portmap/types.js';
import { SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { freePort } from '../../helpers/free-port.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';
import { RpcTestClient, sysCred, udpCall } from '../../helpers/rpc-client.js';

describe('startNfsServer: listeners, portmapper, shutdown', function () {
  this.timeout(30_000);
  let h: Harness | null = null;

  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it("with portmap 'own' maps NFS (TCP) and MOUNT v3/v1 (TCP and UDP) to the bound ports", async () => {
    const portmapPort = await freePort();
    h = await startHarness({ portmap: 'own', portmapPort });
    const { nfs, mount } = h.server.ports;
    assert.equal(h.server.ports.portmap, portmapPort);
    for (const transport of ['tcp', 'udp'] as const) {
      const target = { host: '127.0.0.1', port: portmapPort, transport };
      assert.equal(await pmapGetport(NFS_PROGRAM, NFS_V3, IPPROTO_TCP, target), nfs);
      assert.equal(await pmapGetport(NFS_PROGRAM, NFS_V3, IPPROTO_UDP, target), 0, 'NFS is TCP only');
      assert.equal(await pmapGetport(MOUNT_PROG, MOUNT_V3, IPPROTO_UDP, target), mount);
      assert.equal(await pmapGetport(MOUNT_PROG, MOUNT_V1, IPPROTO_TCP, target), mount);
    }
  });

  it('answers MOUNT over UDP and closes every listener on close()', async () => {
    h = await startHarness();
    const { nfs, mount } = h.server.ports;
    assert.equal((await udpCall(mount, { prog: MOUNT_PROG, vers: MOUNT_V3, proc: MOUNTPROC3_NULL })).stat, SUCCESS);
    await h.close();
    h = null;
    await assert.rejects(RpcTestClient.connect(nfs));
    await assert.rejects(RpcTestClient.connect(mount));
  });
});

describe('open handles the server holds for READ and WRITE', function () {
  this.timeout(30_000);

  it('are reused while busy and released (written data flushed) once idle: no handle or buffer left behind', async () => {
    const h = await startHarness({ handleIdleMs: 50, exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    try {
      const f = await h.client.create(h.root, 'idle');
      assert.ok(f.fh);
      for (let i = 0; i < 5; i++) assert.equal((await h.client.write(f.fh, i * 100, Buffer.alloc(100, i))).status, NFS3_OK);
      assert.equal((await h.client.read(f.fh, 0, 500)).data?.length, 500);
      assert.equal(h.volume.vfs.openHandles, 2, 'one write and one read handle');
      for (let i = 0; i < 100 && (h.volume.vfs.openHandles > 0 || h.volume.vfs.pendingFiles > 0); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(h.volume.vfs.openHandles, 0);
      assert.equal(h.volume.vfs.pendingFiles, 0, 'the write handle release flushed the file');
      assert.equal(h.server.verifier.changes, 0);
    } finally {
      await h.close();
    }
  });
});

describe('a file CREATE made', function () {
  this.timeout(30_000);

  for (const engine of ['sqlite', 'redis'] as const) {
    it(`is open for WRITE at once with the attributes the create answered: the first WRITE opens and reads nothing (${engine})`, async () => {
      const h = await startHarness({ engine, handleIdleMs: 100, exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
      try {
        const vfs = h.volume.vfs;
        const calls: string[] = [];
        const open = vfs.open.bind(vfs);
        const getattr = vfs.getattr.bind(vfs);
        Object.assign(vfs, {
          open: (...a: Parameters<typeof open>) => { calls.push(a[3]?.known === undefined ? 'open' : 'open with known attributes'); return open(...a); },
          getattr: (...a: Parameters<typeof getattr>) => { calls.push('getattr'); return getattr(...a); },
        });
        const f = await h.client.create(h.root, 'fresh');
        assert.ok(f.fh);
        assert.deepEqual(calls.splice(0), ['getattr', 'open with known attributes'], "CREATE: the directory's pre-operation attributes, then the new file's write handle");
        const w = await h.client.write(f.fh, 0, Buffer.alloc(4096, 7), FILE_SYNC);
        assert.equal(w.status, NFS3_OK);
        assert.deepEqual(calls.splice(0), [], 'WRITE: neither an open nor an attribute read');
        assert.equal(w.wcc.after?.size, 4096n);
        assert.equal((await h.client.read(f.fh, 0, 4096)).data?.equals(Buffer.alloc(4096, 7)), true);
        calls.length = 0;
        assert.equal((await h.client.create(h.root, 'fresh')).status, NFS3_OK);
        assert.deepEqual(calls.filter((c) => c.startsWith('open')), [], 'an existing file (UNCHECKED) gets no new handle');
        for (let i = 0; i < 100 && h.volume.vfs.openHandles > 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(h.volume.vfs.openHandles, 0, 'the handle is released once idle');
      } finally {
        await h.close();
      }
    });
  }

  it('and REMOVE removed is STALE even while the server still holds its handle (unlinked, open only here)', async () => {
    const h = await startHarness({ engine: 'sqlite', handleIdleMs: 60_000, exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    try {
      const f = await h.client.create(h.root, 'doomed');
      assert.ok(f.fh);
      assert.equal((await h.client.write(f.fh, 0, Buffer.from('data'), FILE_SYNC)).status, NFS3_OK);
      assert.equal(h.volume.vfs.openHandles, 1, 'the write handle, idle for a minute before release');
      assert.equal((await h.client.remove(h.root, 'doomed')).status, NFS3_OK);
      assert.equal(h.volume.vfs.openHandles, 1, 'still held: the inode is unlinked but kept');
      assert.equal((await h.client.getattr(f.fh)).status, NFS3ERR_STALE);
      assert.equal((await h.client.write(f.fh, 0, Buffer.from('more'), FILE_SYNC)).status, NFS3ERR_STALE);
      assert.equal((await h.client.read(f.fh, 0, 4)).status, NFS3ERR_STALE);
    } finally {
      await h.close();
    }
  });
});

describe('WRITE records spanning socket chunks', function () {
  this.timeout(60_000);

  it('land byte for byte when 1 MiB WRITEs run concurrently on one connection, round after round (record buffers are reused only after their call)', async () => {
    const h = await startHarness({ exports: [{ path: '/', squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    try {
      const f = await h.client.create(h.root, 'big');
      assert.ok(f.fh);
      const fh = f.fh;
      const MiB = 1024 * 1024;
      const piece = (i: number): Buffer => {
        const b = Buffer.allocUnsafe(MiB);
        for (let at = 0; at < MiB; at += 4) b.writeUInt32BE((i * 0x01000193 + at) >>> 0, at);
        return b;
      };
      const rounds = 3;
      const perRound = 6;
      for (let r = 0; r < rounds; r++) {
        const writes = Array.from({ length: perRound }, (_, k) => r * perRound + k).map((i) => h?.client.write(fh, i * MiB, piece(i)));
        for (const w of await Promise.all(writes)) assert.equal(w?.status, NFS3_OK);
      }
      assert.equal((await h.client.commit(fh)).status, NFS3_OK);
      for (let i = 0; i < rounds * perRound; i++) {
        const got = await h.client.read(fh, i * MiB, MiB);
        assert.equal(got.status, NFS3_OK);
        assert.ok(got.data?.equals(piece(i)), `MiB ${i} reads back as written`);
      }
    } finally {
      await h.close();
    }
  });
});
