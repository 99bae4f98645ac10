/**
 * WebDAV class 2 (RFC 4918 §6-§7, §9.10-§9.11) over HTTP: Lock-Token headers, tokens enforced
 * through the If header (423 without), shared vs exclusive conflicts, refresh, depth-infinity
 * collection locks, unmapped URLs, UNLOCK rules.
 */
import assert from 'node:assert/strict';
import { EngineLockStore, LEGACY_LOCK_XATTR_PREFIX, LockManager, MAX_LOCK_OWNER_BYTES } from '../../../src/protocols/webdav/locks.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';
import { startWebdavServer } from '../../../src/protocols/webdav/server.js';
import { ROOT_CREDENTIALS, ROOT_INODE } from '../../../src/vfs/types.js';
import { startDavHarness, type DavHarness } from '../../helpers/webdav-harness.js';

const lockBody = (scope: 'exclusive' | 'shared'): string =>
  `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:${scope}/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>`;

/** An exclusive depth-0 lock request on the one-segment path `p`, for LockManager.lock. */
const exclusive = (p: string, ownerXml: string | null = null) =>
  ({ root: [Buffer.from(p)], scope: 'exclusive', depth: 0, ownerXml, timeoutSec: 600, principal: '' } as const);

describe('WebDAV locks (in-process server, memory volume)', function () {
  let h: DavHarness;
  beforeEach(async () => {
    h = await startDavHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function lock(path: string, scope: 'exclusive' | 'shared' = 'exclusive', headers: Record<string, string> = {}): Promise<string> {
    const r = await h.req('LOCK', path, { Timeout: 'Second-600', ...headers }, lockBody(scope));
    assert.ok(r.status === 200 || r.status === 201, `LOCK ${path}: ${r.status} ${r.text}`);
    const m = /^<(urn:uuid:[0-9a-f-]+)>$/.exec(String(r.headers['lock-token']));
    assert.ok(m?.[1] !== undefined, 'Lock-Token header');
    assert.match(r.text, /<D:lockdiscovery><D:activelock>/);
    return m[1];
  }

  it('an exclusive lock makes PUT without the token 423 and with it (If header) 204; UNLOCK 204 frees it', async () => {
    await h.req('PUT', '/f', {}, 'a');
    const token = await lock('/f');
    const refused = await h.req('PUT', '/f', {}, 'b');
    assert.equal(refused.status, 423);
    assert.match(refused.text, /lock-token-submitted/);
    assert.equal((await h.req('DELETE', '/f')).status, 423);
    assert.equal((await h.req('PUT', '/f', { If: `(<${token}>)` }, 'b')).status, 204);
    assert.equal((await h.req('UNLOCK', '/f', { 'Lock-Token': `<${token}>` })).status, 204);
    assert.equal((await h.req('PUT', '/f', {}, 'c')).status, 204);
  });

  it('a second exclusive lock is 423; two shared locks coexist', async () => {
    await h.req('PUT', '/s', {}, 'a');
    await lock('/s', 'shared');
    await lock('/s', 'shared');
    assert.equal((await h.req('LOCK', '/s', {}, lockBody('exclusive'))).status, 423);
    await h.req('PUT', '/e', {}, 'a');
    await lock('/e');
    assert.equal((await h.req('LOCK', '/e', {}, lockBody('shared'))).status, 423);
  });

  it('an If header whose token matches no lock fails with 412; a malformed one is 400', async () => {
    await h.req('PUT', '/g', {}, 'a');
    assert.equal((await h.req('PUT', '/g', { If: '(<urn:uuid:00000000-0000-0000-0000-000000000000>)' }, 'b')).status, 412);
    assert.equal((await h.req('PUT', '/g', { If: '(<urn:uuid:broken' }, 'b')).status, 400);
  });

  it('a refresh (empty body, token in If) returns the lock with a new timeout', async () => {
    await h.req('PUT', '/r', {}, 'a');
    const token = await lock('/r');
    const r = await h.req('LOCK', '/r', { If: `(<${token}>)`, Timeout: 'Second-100' });
    assert.equal(r.status, 200);
    assert.match(r.text, /Second-(100|99)/);
    assert.equal((await h.req('LOCK', '/r', { Timeout: 'Second-100' })).status, 412);
  });

  it('a depth-infinity lock on a collection covers new members: PUT inside needs the token', async () => {
    await h.req('MKCOL', '/col');
    const token = await lock('/col/');
    assert.equal((await h.req('PUT', '/col/new', {}, 'x')).status, 423);
    assert.equal((await h.req('PUT', '/col/new', { If: `(<${token}>)` }, 'x')).status, 201);
    const pf = await h.req('PROPFIND', '/col/new', { Depth: '0' }, '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>');
    assert.match(pf.text, new RegExp(token));
  });

  it('a depth-0 lock on a collection guards its membership: a new member needs the token, replacing one does not', async () => {
    await h.req('MKCOL', '/d0');
    assert.equal((await h.req('PUT', '/d0/old', {}, 'a')).status, 201);
    const token = await lock('/d0/', 'exclusive', { Depth: '0' });
    const refused = await h.req('PUT', '/d0/new', {}, 'x');
    assert.equal(refused.status, 423);
    assert.match(refused.text, /lock-token-submitted/);
    assert.equal((await h.req('GET', '/d0/new')).status, 404);
    assert.equal((await h.req('PUT', '/d0/old', {}, 'b')).status, 204);
    assert.equal((await h.req('GET', '/d0/old')).text, 'b');
    assert.equal((await h.req('PUT', '/d0/new', { If: `</d0/> (<${token}>)` }, 'y')).status, 201);
  });

  it('LOCK on an unmapped URL creates an empty file (201); LOCK without a parent is 409', async () => {
    await lock('/fresh');
    const g = await h.req('GET', '/fresh');
    assert.equal(g.status, 200);
    assert.equal(g.body.length, 0);
    assert.equal((await h.req('LOCK', '/no/parent', {}, lockBody('exclusive'))).status, 409);
  });

  it('locks live in the metadata engine: a second server over the same volume enforces them', async () => {
    await h.req('PUT', '/shared', {}, 'a');
    const token = await lock('/shared');
    await h.server.close();
    const second = await startWebdavServer({ vfs: h.volume.vfs, listen: { host: '127.0.0.1', port: 0 }, anonymous: 'read-write' });
    try {
      const url = `http://127.0.0.1:${second.address.port}/shared`;
      assert.equal((await fetch(url, { method: 'PUT', body: 'b' })).status, 423);
      assert.equal((await fetch(url, { method: 'PUT', body: 'b', headers: { If: `(<${token}>)` } })).status, 204);
      // in the engine's own lock table, not in xattrs a JuiceFS client would list on the root
      assert.deepEqual([...(await h.volume.vfs.readDavLocks()).locks.keys()], [token]);
      assert.deepEqual(await h.volume.vfs.listxattr(ROOT_CREDENTIALS, ROOT_INODE), []);
    } finally {
      await second.close();
    }
  });

  it('locks an earlier version kept as root xattrs are moved into the lock table at start and still enforced', async () => {
    await h.req('PUT', '/old', {}, 'a');
    const token = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    const legacy = { token, root: [Buffer.from('old').toString('base64')], scope: 'exclusive', depth: 0, ownerXml: null,
      timeoutSec: 600, expiresAtMs: Date.now() + 600_000, principal: '' };
    const name = Buffer.from(`${LEGACY_LOCK_XATTR_PREFIX}${token}`, 'latin1');
    await h.volume.vfs.setxattr(ROOT_CREDENTIALS, ROOT_INODE, name, Buffer.from(JSON.stringify(legacy)));
    const expired = { ...legacy, token: 'urn:uuid:00000000-0000-4000-8000-000000000002', expiresAtMs: Date.now() - 1000 };
    await h.volume.vfs.setxattr(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from(`${LEGACY_LOCK_XATTR_PREFIX}${expired.token}`, 'latin1'),
      Buffer.from(JSON.stringify(expired)));
    const second = await startWebdavServer({ vfs: h.volume.vfs, listen: { host: '127.0.0.1', port: 0 }, anonymous: 'read-write' });
    try {
      assert.deepEqual(await h.volume.vfs.listxattr(ROOT_CREDENTIALS, ROOT_INODE), []);
      assert.deepEqual([...(await h.volume.vfs.readDavLocks()).locks.keys()], [token]);
      const url = `http://127.0.0.1:${second.address.port}/old`;
      assert.equal((await fetch(url, { method: 'PUT', body: 'b' })).status, 423);
      assert.equal((await fetch(url, { method: 'PUT', body: 'b', headers: { If: `(<${token}>)` } })).status, 204);
    } finally {
      await second.close();
    }
  });

  it('a lock store sees changes another appliance made after its last read (the cached table is checked by version)', async () => {
    const a = new LockManager(new EngineLockStore(h.volume.vfs));
    const b = new LockManager(new EngineLockStore(h.volume.vfs));
    const req = exclusive('seen');
    assert.deepEqual(await a.covering(req.root), []);
    const l = await b.lock(req, () => '/seen');
    assert.deepEqual((await a.covering(req.root)).map((x) => x.token), [l.token]);
    await b.unlock(l.token);
    assert.deepEqual(await a.covering(req.root), []);
  });

  it('records of the lock table that are no locks are skipped, and removed with the next change', async () => {
    const junk = new Map([['urn:uuid:junk', Buffer.from('not json')], ['urn:uuid:other', Buffer.from(JSON.stringify({ token: 'urn:uuid:x' }))]]);
    assert.equal(await h.volume.vfs.updateDavLocks(0, junk, []), true);
    await h.req('PUT', '/j', {}, 'a');
    assert.equal((await h.req('PUT', '/j', {}, 'b')).status, 204, 'unreadable records lock nothing');
    const token = await lock('/j');
    assert.deepEqual([...(await h.volume.vfs.readDavLocks()).locks.keys()], [token]);
  });

  it('the lock table is bounded: past maxLocks live locks LOCK is 507, an owner over MAX_LOCK_OWNER_BYTES is 400', async () => {
    const m = new LockManager(new EngineLockStore(h.volume.vfs), { maxLocks: 3 });
    const held = [];
    for (const p of ['a', 'b', 'c']) held.push(await m.lock(exclusive(p), () => '/'));
    await assert.rejects(m.lock(exclusive('d'), () => '/'), (e: unknown) => e instanceof HttpError && e.status === 507);
    await m.unlock(held[0]?.token ?? '');
    await m.lock(exclusive('d'), () => '/');
    await assert.rejects(m.lock(exclusive('e', 'x'.repeat(MAX_LOCK_OWNER_BYTES + 1)), () => '/'), (e: unknown) => e instanceof HttpError && e.status === 400);
    const long = await h.req('LOCK', '/long', { Timeout: 'Second-60' },
      `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>${'o'.repeat(MAX_LOCK_OWNER_BYTES + 1)}</D:owner></D:lockinfo>`);
    assert.equal(long.status, 400);
    assert.match(long.text, /owner/);
  });

  it('UNLOCK with a token that does not cover the URL is 409; without Lock-Token 400', async () => {
    await h.req('PUT', '/u1', {}, 'a');
    await h.req('PUT', '/u2', {}, 'a');
    const token = await lock('/u1');
    const r = await h.req('UNLOCK', '/u2', { 'Lock-Token': `<${token}>` });
    assert.equal(r.status, 409);
    assert.match(r.text, /lock-token-matches-request-uri/);
    assert.equal((await h.req('UNLOCK', '/u1')).status, 400);
  });
});

describe('WebDAV lock table across appliances (one volume, each engine)', function () {
  for (const engine of ['memory', 'sqlite', 'redis'] as const) {
    it(`${engine}: two lock managers racing for one exclusive lock: exactly one is granted, the other gets 423`, async () => {
      const h = await startDavHarness({ engine });
      try {
        // two appliances: each its own manager (its own in-process ordering), one table in the engine
        const managers = [new LockManager(new EngineLockStore(h.volume.vfs)), new LockManager(new EngineLockStore(h.volume.vfs))];
        const req = exclusive('race');
        for (let round = 0; round < 5; round++) {
          const got = await Promise.allSettled(managers.map((m) => m.lock(req, () => '/race')));
          const granted = got.filter((g) => g.status === 'fulfilled');
          assert.equal(granted.length, 1, `round ${round}: ${got.map((g) => g.status).join(',')}`);
          const refused = got.find((g) => g.status === 'rejected');
          assert.match(String(refused?.reason), /conflicting lock/);
          assert.equal((await h.volume.vfs.readDavLocks()).locks.size, 1);
          const first = granted[0];
          if (first?.status === 'fulfilled') await managers[round % 2]?.unlock(first.value.token);
        }
      } finally {
        await h.close();
      }
    });
  }
});
