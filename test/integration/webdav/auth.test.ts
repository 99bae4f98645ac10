/**
 * WebDAV authentication (auth.ts through the server): Basic against an htpasswd file of bcrypt
 * hashes, 401 with a challenge, read-only users, per-user roots, per-user uid/gid for permission
 * checks (DELETE partial failure as 207), anonymous access only when configured, and Basic over
 * plain HTTP only when explicitly allowed.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startWebdavServer } from '../../../src/protocols/webdav/server.js';
import { ROOT_CREDENTIALS, ROOT_INODE } from '../../../src/vfs/types.js';
import { startDavHarness, type DavHarness } from '../../helpers/webdav-harness.js';
import { tmpDir } from '../../helpers/tmp.js';

const basic = (user: string, pw: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

describe('WebDAV authentication', function () {
  let h: DavHarness;
  let htpasswd: string;
  before(async () => {
    htpasswd = join(tmpDir('ferry-dav-auth-'), 'htpasswd');
    const hash = bcrypt.hashSync('secret', 4);
    writeFileSync(htpasswd, `alice:${hash}\nbob:${hash}\ncarol:${hash}\nerin:${hash}\n`);
    h = await startDavHarness({
      auth: {
        htpasswdPath: htpasswd,
        users: { bob: { access: 'read-only' }, carol: { root: '/home/carol' }, erin: { credentials: { uid: 1000, gid: 1000, gids: [] } } },
      },
      allowBasicOverHttp: true,
    });
    const home = await h.volume.vfs.mkdir(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('home'), 0o755, 0);
    await h.volume.vfs.mkdir(ROOT_CREDENTIALS, home.ino, Buffer.from('carol'), 0o755, 0);
  });
  after(async () => {
    await h.close();
  });

  it('a request without or with wrong credentials is 401 with a Basic challenge', async () => {
    const none = await h.req('PROPFIND', '/', { Depth: '0' });
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm=/);
    assert.equal((await h.req('PROPFIND', '/', { Depth: '0', ...basic('alice', 'wrong') })).status, 401);
  });

  it('a valid user reads and writes; a read-only user reads but gets 403 on PUT', async () => {
    assert.equal((await h.req('PUT', '/a.txt', basic('alice', 'secret'), 'hi')).status, 201);
    assert.equal((await h.req('GET', '/a.txt', basic('bob', 'secret'))).text, 'hi');
    assert.equal((await h.req('PUT', '/b.txt', basic('bob', 'secret'), 'no')).status, 403);
  });

  it('a user with a root sees that directory as / (hrefs relative to it)', async () => {
    assert.equal((await h.req('PUT', '/mine.txt', basic('carol', 'secret'), 'c')).status, 201);
    assert.equal((await h.req('GET', '/home/carol/mine.txt', basic('alice', 'secret'))).text, 'c');
    const pf = await h.req('PROPFIND', '/', { Depth: '1', ...basic('carol', 'secret') });
    assert.match(pf.text, /<D:href>\/mine\.txt<\/D:href>/);
  });

  it('a user mapped to uid/gid owns what they create and is held to permissions: 403 in a root-owned collection', async () => {
    assert.equal((await h.req('PUT', '/erin.txt', basic('erin', 'secret'), 'e')).status, 201);
    const vfs = h.volume.vfs;
    const mine = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('erin.txt'));
    assert.deepEqual([mine.attr.uid, mine.attr.gid], [1000, 1000]);
    assert.equal((await h.req('PUT', '/alice.txt', basic('alice', 'secret'), 'a')).status, 201);
    assert.equal((await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('alice.txt'))).attr.uid, 0, 'an unmapped user acts as root');
    await vfs.mkdir(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('rootonly'), 0o755, 0);
    assert.equal((await h.req('PUT', '/rootonly/x', basic('erin', 'secret'), 'x')).status, 403);
    assert.equal((await h.req('PUT', '/rootonly/x', basic('alice', 'secret'), 'x')).status, 201);
  });

  it('DELETE of a tree whose members the user may not all remove is a 207 naming the ones left', async () => {
    const vfs = h.volume.vfs;
    assert.equal((await h.req('MKCOL', '/mixed', basic('erin', 'secret'))).status, 201);
    assert.equal((await h.req('PUT', '/mixed/mine.txt', basic('erin', 'secret'), 'm')).status, 201);
    const mixed = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('mixed'));
    const locked = await vfs.mkdir(ROOT_CREDENTIALS, mixed.ino, Buffer.from('roots'), 0o755, 0);
    await vfs.create(ROOT_CREDENTIALS, locked.ino, Buffer.from('f'), 0o644, 0, false);
    const r = await h.req('DELETE', '/mixed/', basic('erin', 'secret'));
    assert.equal(r.status, 207, r.text);
    assert.match(r.text, /<D:href>\/mixed\/roots\/f<\/D:href><D:status>HTTP\/1\.1 403 Forbidden<\/D:status>/);
    assert.equal((await h.req('GET', '/mixed/mine.txt', basic('erin', 'secret'))).status, 404, 'what erin could remove is gone');
    assert.equal((await h.req('GET', '/mixed/roots/f', basic('erin', 'secret'))).status, 200, 'the rest stays');
  });

  it('startWebdavServer refuses Basic auth over plain HTTP unless allowed, and no auth without anonymous', async () => {
    await assert.rejects(startWebdavServer({ vfs: h.volume.vfs, listen: { host: '127.0.0.1', port: 0 }, auth: { htpasswdPath: htpasswd } }), /plain HTTP/);
    await assert.rejects(startWebdavServer({ vfs: h.volume.vfs, listen: { host: '127.0.0.1', port: 0 } }), /anonymous/);
  });

  it('anonymous read-only access, when configured, reads but cannot write', async () => {
    const anon = await startDavHarness({ anonymous: 'read-only' });
    try {
      assert.equal((await anon.req('PROPFIND', '/', { Depth: '0' })).status, 207);
      assert.equal((await anon.req('PUT', '/x', {}, 'x')).status, 403);
    } finally {
      await anon.close();
    }
  });
});
