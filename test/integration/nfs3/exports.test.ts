import assert from 'node:assert/strict';
import { MNT3_OK, MNT3ERR_ACCES, MNT3ERR_NOENT, MNT3ERR_NOTDIR } from '../../../src/protocols/nfs/mount/types.js';
import { FileHandleCodec, exportIdOf } from '../../../src/protocols/nfs/nfs3/filehandle.js';
import {
  ACCESS3_MODIFY, ACCESS3_READ, FILE_SYNC, NFS3_OK, NFS3ERR_ACCES, NFS3ERR_ROFS, NFS3ERR_STALE,
} from '../../../src/protocols/nfs/nfs3/types.js';
import { toIno } from '../../../src/vfs/types.js';
import { sysCred } from '../../helpers/rpc-client.js';
import { startHarness, type Harness } from '../../helpers/nfs-harness.js';

describe('NFS exports: allow-lists, read-only, squashing, secure ports', function () {
  this.timeout(30_000);
  let h: Harness;

  afterEach(async () => {
    await h.close();
  });

  it('a client outside the allow-list gets MNT3ERR_ACCES at MOUNT and NFS3ERR_ACCES on every NFS call', async () => {
    h = await startHarness({
      exports: [{ path: '/', name: '/open' }, { path: '/', name: '/closed', clients: ['10.0.0.0/8', '192.0.2.7'] }],
    });
    assert.equal((await h.client.mount(h.server.ports.mount, '/closed')).status, MNT3ERR_ACCES);
    assert.equal((await h.client.mount(h.server.ports.mount, '/nosuch')).status, MNT3ERR_NOENT);
    // a handle of the closed export, as a client that once was allowed would still hold it
    const closedRoot = new FileHandleCodec(h.volume.setting.UUID, '').encode(exportIdOf('/closed'), toIno(1));
    assert.equal((await h.client.getattr(closedRoot)).status, NFS3ERR_ACCES);
    assert.equal((await h.client.readdir(closedRoot, 0n, 4096)).status, NFS3ERR_ACCES);
    assert.equal((await h.client.getattr(h.root)).status, NFS3_OK, 'the open export works');
  });

  it('a handle of an export no longer configured is STALE', async () => {
    h = await startHarness({ exports: [{ path: '/' }] });
    const gone = new FileHandleCodec(h.volume.setting.UUID, '').encode(exportIdOf('/removed'), toIno(1));
    assert.equal((await h.client.getattr(gone)).status, NFS3ERR_STALE);
  });

  it('a read-only export answers ROFS to every change and grants no MODIFY', async () => {
    h = await startHarness({ exports: [{ path: '/', name: '/rw', squash: 'no_root_squash' }, { path: '/', name: '/ro', ro: true, squash: 'no_root_squash' }], cred: sysCred(0, 0) });
    const made = await h.client.create(h.root, 'f');
    assert.ok(made.fh);
    await h.client.write(made.fh, 0, Buffer.from('data'), FILE_SYNC);
    const ro = await h.client.mount(h.server.ports.mount, '/ro');
    assert.equal(ro.status, MNT3_OK);
    assert.ok(ro.fh);
    const f = await h.client.fh(ro.fh, 'f');
    assert.equal((await h.client.create(ro.fh, 'g')).status, NFS3ERR_ROFS);
    assert.equal((await h.client.mkdir(ro.fh, 'd')).status, NFS3ERR_ROFS);
    assert.equal((await h.client.write(f, 0, Buffer.from('x'))).status, NFS3ERR_ROFS);
    assert.equal((await h.client.setattr(f, { mode: 0o600 })).status, NFS3ERR_ROFS);
    assert.equal((await h.client.remove(ro.fh, 'f')).status, NFS3ERR_ROFS);
    assert.equal((await h.client.rename(ro.fh, 'f', ro.fh, 'h')).status, NFS3ERR_ROFS);
    assert.equal((await h.client.read(f, 0, 10)).data?.toString(), 'data');
    assert.equal((await h.client.access(f, ACCESS3_READ | ACCESS3_MODIFY)).access, ACCESS3_READ);
  });

  it('root_squash (default) makes root the anonymous user; no_root_squash keeps root; all_squash maps everyone', async () => {
    h = await startHarness({
      exports: [
        { path: '/', name: '/nosquash', squash: 'no_root_squash' },
        { path: '/', name: '/rootsquash', anonuid: 4242, anongid: 4343 },
        { path: '/', name: '/allsquash', squash: 'all_squash' },
      ],
      cred: sysCred(0, 0),
    });
    await h.client.setattr(h.root, { mode: 0o777 });
    const owners: Record<string, [number, number]> = {};
    for (const [name, cred] of [['/nosquash', sysCred(0, 0)], ['/rootsquash', sysCred(0, 0)], ['/allsquash', sysCred(1000, 1000)]] as const) {
      const c = await h.connect(cred);
      const m = await c.mount(h.server.ports.mount, name);
      assert.ok(m.fh);
      const made = await c.create(m.fh, `by${name.slice(1)}`);
      assert.equal(made.status, NFS3_OK);
      owners[name] = [made.attr?.uid ?? -1, made.attr?.gid ?? -1];
    }
    assert.deepEqual(owners, { '/nosquash': [0, 0], '/rootsquash': [4242, 4343], '/allsquash': [65534, 65534] });
  });

  it('a squashed root cannot change a root-owned file', async () => {
    h = await startHarness({ exports: [{ path: '/', name: '/admin', squash: 'no_root_squash' }, { path: '/', name: '/squashed' }], cred: sysCred(0, 0) });
    const f = await h.client.create(h.root, 'rootfile', { attrs: { mode: 0o644 } });
    assert.ok(f.fh);
    const sq = await h.client.mount(h.server.ports.mount, '/squashed');
    assert.ok(sq.fh);
    const viaSquashed = await h.client.fh(sq.fh, 'rootfile');
    assert.equal((await h.client.write(viaSquashed, 0, Buffer.from('x'))).status, NFS3ERR_ACCES);
  });

  it('a secure export refuses MOUNT and NFS calls from an unprivileged source port', async () => {
    h = await startHarness({ exports: [{ path: '/', name: '/open' }, { path: '/', name: '/secure', secure: true }] });
    assert.equal((await h.client.mount(h.server.ports.mount, '/secure')).status, MNT3ERR_ACCES);
    const secureRoot = new FileHandleCodec(h.volume.setting.UUID, '').encode(exportIdOf('/secure'), toIno(1));
    assert.equal((await h.client.getattr(secureRoot)).status, NFS3ERR_ACCES);
  });

  it('MNT of a directory below an export gives that directory\'s handle; missing paths are NOENT, files NOTDIR', async () => {
    h = await startHarness({ exports: [{ path: '/', name: '/export', squash: 'no_root_squash' }], dirs: ['/a/b'], cred: sysCred(0, 0) });
    const sub = await h.client.mount(h.server.ports.mount, '/export/a/b');
    assert.equal(sub.status, MNT3_OK);
    assert.ok(sub.fh);
    const a = await h.client.fh(h.root, 'a');
    assert.deepEqual(sub.fh, await h.client.fh(a, 'b'));
    assert.equal((await h.client.mount(h.server.ports.mount, '/export/a/nope')).status, MNT3ERR_NOENT);
    await h.client.create(a, 'file');
    assert.equal((await h.client.mount(h.server.ports.mount, '/export/a/file')).status, MNT3ERR_NOTDIR);
    assert.equal((await h.client.mount(h.server.ports.mount, '/exported')).status, MNT3ERR_NOENT);
  });

  it('an export of a subdirectory: MNT gives its handle, and `..` from it stays inside', async () => {
    h = await startHarness({ exports: [{ path: '/projects/a', name: '/a', squash: 'no_root_squash' }], dirs: ['/projects/a'], cred: sysCred(0, 0) });
    const root = await h.client.getattr(h.root);
    assert.notEqual(root.attr?.fileid, 1n);
    const up = await h.client.lookup(h.root, '..');
    assert.deepEqual(up.fh, h.root);
    const list = await h.client.readdirplus(h.root, 0n, 4096, 4096);
    const dotdot = list.entries.find((e) => e.name === '..');
    assert.equal(dotdot?.fileid, root.attr?.fileid);
  });
});
