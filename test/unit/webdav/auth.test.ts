import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { BasicAuthenticator, normaliseRoot, parseBasic, parseHtpasswd } from '../../../src/protocols/webdav/auth.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';
import { tmpDir } from '../../helpers/tmp.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const unauthorized = (e: unknown): boolean => e instanceof HttpError && e.status === 401
  && e.headers['WWW-Authenticate'] === 'Basic realm="ferry", charset="UTF-8"';

describe('webdav auth: Basic against htpasswd (bcrypt)', () => {
  // Cost 4 keeps the suite fast; the code path is the same as for cost 10+.
  const alice = bcrypt.hashSync('wonderland', 4);
  const bob = bcrypt.hashSync('pässwörd', 4).replace(/^\$2b\$/, '$2y$');
  const carol = bcrypt.hashSync('c', 4).replace(/^\$2b\$/, '$2a$');
  let file: string;
  let clock: number;
  let auth: BasicAuthenticator;

  beforeEach(async () => {
    file = join(tmpDir(), 'htpasswd');
    writeFileSync(file, `# users\nalice:${alice}\nbob:${bob}\ncarol:${carol}\nmd5user:$apr1$abc$def\nshauser:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n\n`);
    clock = 1_000_000;
    auth = new BasicAuthenticator({
      htpasswdPath: file,
      users: { bob: { access: 'read-only', root: '/home//bob/' } },
      cacheTtlMs: 1000,
    }, () => clock);
    assert.deepEqual(await auth.reload(), [5, 6], 'non-bcrypt lines are reported as skipped');
  });

  it('accepts $2b$, $2y$ and $2a$ hashes with the right password and applies user options', async () => {
    assert.deepEqual(await auth.authenticate(basic('alice', 'wonderland')), { name: 'alice', access: 'read-write', root: '/' });
    assert.deepEqual(await auth.authenticate(basic('bob', 'pässwörd')), { name: 'bob', access: 'read-only', root: '/home/bob' });
    assert.equal((await auth.authenticate(basic('carol', 'c'))).name, 'carol');
  });

  it('a wrong password, an unknown user, a non-bcrypt user or no header is 401 with the challenge', async () => {
    await assert.rejects(auth.authenticate(basic('alice', 'wrong')), unauthorized);
    await assert.rejects(auth.authenticate(basic('mallory', 'wonderland')), unauthorized);
    await assert.rejects(auth.authenticate(basic('md5user', 'x')), unauthorized);
    await assert.rejects(auth.authenticate(undefined), unauthorized);
    await assert.rejects(auth.authenticate('Bearer abc'), unauthorized);
    await assert.rejects(auth.authenticate('Basic !!!'), unauthorized);
  });

  it('remembers a verified password until the TTL ends; failures are never cached', async () => {
    await auth.authenticate(basic('alice', 'wonderland'));
    await auth.authenticate(basic('alice', 'wonderland'));
    assert.equal(auth.bcryptRuns, 1);
    await assert.rejects(auth.authenticate(basic('alice', 'nope')), unauthorized);
    await assert.rejects(auth.authenticate(basic('alice', 'nope')), unauthorized);
    assert.equal(auth.bcryptRuns, 3);
    await auth.authenticate(basic('alice', 'wonderland'));
    assert.equal(auth.bcryptRuns, 3, 'the cached entry survives failed attempts');
    clock += 1001;
    await auth.authenticate(basic('alice', 'wonderland'));
    assert.equal(auth.bcryptRuns, 4);
  });

  it('concurrent requests with the same credentials share one bcrypt run', async () => {
    await Promise.all(Array.from({ length: 5 }, () => auth.authenticate(basic('carol', 'c'))));
    assert.equal(auth.bcryptRuns, 1);
  });

  it('reload picks up a changed password and forgets cached verifications', async () => {
    await auth.authenticate(basic('alice', 'wonderland'));
    writeFileSync(file, `alice:${bcrypt.hashSync('new-secret', 4)}\n`);
    await auth.reload();
    await assert.rejects(auth.authenticate(basic('alice', 'wonderland')), unauthorized);
    assert.equal((await auth.authenticate(basic('alice', 'new-secret'))).name, 'alice');
    await assert.rejects(auth.authenticate(basic('bob', 'pässwörd')), unauthorized);
  });

  it('a failed reload keeps the old table; a readable file replaces it', async () => {
    await assert.rejects(new BasicAuthenticator({ htpasswdPath: join(tmpDir(), 'missing') }).reload());
    rmSync(file);
    await assert.rejects(auth.reload());
    assert.equal((await auth.authenticate(basic('carol', 'c'))).name, 'carol');
    writeFileSync(file, 'garbage\n');
    assert.deepEqual(await auth.reload(), [1]);
    await assert.rejects(auth.authenticate(basic('carol', 'c')), unauthorized);
  });

  it('parses Basic credentials as UTF-8, password may contain colons', () => {
    assert.deepEqual(parseBasic(basic('ü', 'a:b:c')), { user: 'ü', password: 'a:b:c' });
    assert.equal(parseBasic(`Basic ${Buffer.from('nocolon').toString('base64')}`), null);
    assert.equal(parseBasic(`Basic ${Buffer.from([0x61, 0x3a, 0xff]).toString('base64')}`), null);
    assert.deepEqual(parseBasic(`basic   ${Buffer.from('a:').toString('base64')}`), { user: 'a', password: '' });
  });

  it('htpasswd parsing and root normalisation', () => {
    assert.deepEqual([...parseHtpasswd(`a:${alice}\r\n:${alice}\nnohash\n`).hashes.keys()], ['a']);
    assert.equal(normaliseRoot(undefined), '/');
    assert.equal(normaliseRoot('/a//b/'), '/a/b');
    assert.throws(() => normaliseRoot('a/b'));
    assert.throws(() => normaliseRoot('/a/../b'));
    assert.throws(() => new BasicAuthenticator({ htpasswdPath: file, users: { x: { root: '/../etc' } } }));
  });
});
