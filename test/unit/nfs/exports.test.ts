import assert from 'node:assert/strict';
import { Export, ExportTable, normalizeExportPath, parseExports } from '../../../src/protocols/nfs/exports.js';
import { AUTH_NONE, AUTH_SYS } from '../../../src/protocols/nfs/rpc/message.js';

const user = { uid: 1000, gid: 1000, gids: [10, 0] };
const root = { uid: 0, gid: 0, gids: [0, 5] };

describe('nfs exports', () => {
  it('allows addresses and networks of the client list, and everyone without a list', () => {
    const e = new Export({ path: '/', clients: ['10.1.2.3', '192.168.0.0/16', 'fd00::/8'] });
    assert.equal(e.allows({ address: '10.1.2.3', port: 900 }), true);
    assert.equal(e.allows({ address: '10.1.2.4', port: 900 }), false);
    assert.equal(e.allows({ address: '192.168.77.1', port: 40000 }), true);
    assert.equal(e.allows({ address: 'fd00::1', port: 40000 }), true);
    assert.equal(e.allows({ address: '127.0.0.1', port: 40000 }), false);
    assert.equal(new Export({ path: '/' }).allows({ address: '8.8.8.8', port: 50000 }), true);
  });

  it('requires a privileged source port on secure exports only', () => {
    const secure = new Export({ path: '/', secure: true });
    assert.equal(secure.allows({ address: '127.0.0.1', port: 1023 }), true);
    assert.equal(secure.allows({ address: '127.0.0.1', port: 1024 }), false);
    assert.equal(new Export({ path: '/' }).allows({ address: '127.0.0.1', port: 50000 }), true);
  });

  it('root_squash (the default) maps uid 0 and group 0 to the anonymous ids and leaves others alone', () => {
    const e = new Export({ path: '/' });
    assert.deepEqual(e.credentials(AUTH_SYS, root), { uid: 65534, gid: 65534, gids: [65534, 5] });
    assert.deepEqual(e.credentials(AUTH_SYS, { uid: 1000, gid: 1000, gids: [] }), { uid: 1000, gid: 1000, gids: [] });
    assert.deepEqual(e.credentials(AUTH_SYS, user), { uid: 1000, gid: 1000, gids: [10, 65534] });
  });

  it('all_squash maps everyone to anonuid/anongid; no_root_squash keeps root', () => {
    assert.deepEqual(new Export({ path: '/', squash: 'all_squash', anonuid: 7, anongid: 8 }).credentials(AUTH_SYS, user), { uid: 7, gid: 8, gids: [] });
    assert.deepEqual(new Export({ path: '/', squash: 'no_root_squash' }).credentials(AUTH_SYS, root), root);
  });

  it('treats AUTH_NONE callers as anonymous whatever the squash mode', () => {
    assert.deepEqual(new Export({ path: '/', squash: 'no_root_squash', anonuid: 99, anongid: 98 }).credentials(AUTH_NONE, root), { uid: 99, gid: 98, gids: [] });
  });

  it('normalises paths and finds exports by name and by id', () => {
    assert.equal(normalizeExportPath('//a/./b/'), '/a/b');
    assert.equal(normalizeExportPath(''), '/');
    const t = new ExportTable([{ path: '/data', name: '/export' }, { path: '/' }]);
    const e = t.byName('/export/');
    assert.equal(e?.path, '/data');
    assert.equal(t.byId(e.id), e);
    assert.equal(t.byName('/data'), undefined);
    assert.throws(() => new ExportTable([{ path: '/a' }, { path: '/a/' }]), /twice/);
  });

  it('maps a MNT path to the export with the longest matching name and the remaining components', () => {
    const t = new ExportTable([{ path: '/', name: '/export' }, { path: '/x', name: '/export/deep' }]);
    assert.deepEqual(t.forMountPath('/export/a/b')?.rest, ['a', 'b']);
    assert.equal(t.forMountPath('/export/a/b')?.export.name, '/export');
    assert.equal(t.forMountPath('/export/deep/c')?.export.name, '/export/deep');
    assert.equal(t.forMountPath('/exported'), undefined);
    assert.equal(new ExportTable([{ path: '/' }]).forMountPath('/any/dir')?.export.name, '/');
  });

  it('parses config entries and rejects bad client entries and unknown keys', () => {
    assert.deepEqual(parseExports([{ path: '/', clients: ['10.0.0.0/8'], ro: true, squash: 'all_squash' }]),
      [{ path: '/', clients: ['10.0.0.0/8'], ro: true, squash: 'all_squash' }]);
    assert.throws(() => parseExports([{ path: '/', clients: ['10.0.0.0/33'] }]));
    assert.throws(() => parseExports([{ path: '/', clients: ['example.com'] }]));
    assert.throws(() => parseExports([{ path: '/', rw: true }]));
    assert.throws(() => parseExports([{ path: 'relative' }]));
  });
});
