/** Parsing of Redis metadata URLs (spec §B.1): standalone, TLS, unix, Sentinel, passwords from env. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRedisUrl } from '../../../src/meta/redis/url.js';
import { Errno, isFsError } from '../../../src/util/errno.js';
import { tmpDir } from '../../helpers/tmp.js';

const noEnv = {};

describe('redis url parsing (spec §B.1)', () => {
  it('redis://host:port/db with user and password', () => {
    assert.deepEqual(parseRedisUrl('redis://alice:s3cret@10.0.0.5:6380/3', noEnv), {
      address: { kind: 'tcp', host: '10.0.0.5', port: 6380 }, tls: false, db: 3, username: 'alice', password: 's3cret',
    });
  });

  it('defaults: port 6379, db 0, no credentials', () => {
    assert.deepEqual(parseRedisUrl('redis://localhost', noEnv), { address: { kind: 'tcp', host: 'localhost', port: 6379 }, tls: false, db: 0 });
    assert.deepEqual(parseRedisUrl('redis://localhost/', noEnv).db, 0);
  });

  it('password only (":pass@"), percent-encoded characters decoded', () => {
    const t = parseRedisUrl('redis://:p%40ss%2Fw@h:1/2', noEnv);
    assert.equal(t.username, undefined);
    assert.equal(t.password, 'p@ss/w');
  });

  it('rediss:// turns TLS on', () => {
    assert.equal(parseRedisUrl('rediss://h:6379/1', noEnv).tls, true);
  });

  it('IPv6 literal hosts in brackets', () => {
    assert.deepEqual(parseRedisUrl('redis://[::1]:7000/4', noEnv).address, { kind: 'tcp', host: '::1', port: 7000 });
  });

  it('unix:// socket path with ?db=', () => {
    assert.deepEqual(parseRedisUrl('unix://:pw@/var/run/redis.sock?db=5', noEnv), {
      address: { kind: 'unix', path: '/var/run/redis.sock' }, tls: false, db: 5, password: 'pw',
    });
  });

  it('Sentinel: master name then sentinel addresses; a sentinel without a port uses the last port given', () => {
    const t = parseRedisUrl('redis://:pw@mymaster,s1,s2:26380,s3:26381/2', noEnv);
    assert.deepEqual(t.address, {
      kind: 'sentinel', masterName: 'mymaster',
      sentinels: [{ host: 's1', port: 26381 }, { host: 's2', port: 26380 }, { host: 's3', port: 26381 }],
    });
    assert.equal(t.db, 2);
    assert.equal(t.password, 'pw');
    assert.equal(t.sentinelPassword, 'pw');
    assert.deepEqual(parseRedisUrl('redis://m,s1/0', noEnv).address, { kind: 'sentinel', masterName: 'm', sentinels: [{ host: 's1', port: 26379 }] });
  });

  it('SENTINEL_PASSWORD overrides the sentinel password only', () => {
    const t = parseRedisUrl('redis://:pw@m,s1:26379/1', { SENTINEL_PASSWORD: 'sp' });
    assert.equal(t.password, 'pw');
    assert.equal(t.sentinelPassword, 'sp');
  });

  it('password from REDIS_PASSWORD, META_PASSWORD or META_PASSWORD_FILE when the URL has none', () => {
    assert.equal(parseRedisUrl('redis://h/1', { REDIS_PASSWORD: 'a' }).password, 'a');
    assert.equal(parseRedisUrl('redis://h/1', { META_PASSWORD: 'b' }).password, 'b');
    const file = join(tmpDir(), 'pw');
    writeFileSync(file, 'from-file\n');
    assert.equal(parseRedisUrl('redis://h/1', { META_PASSWORD_FILE: file }).password, 'from-file');
    assert.equal(parseRedisUrl('redis://:url@h/1', { REDIS_PASSWORD: 'env' }).password, 'url', 'the URL wins');
  });

  it('malformed URLs fail with EINVAL without echoing the password', () => {
    for (const bad of ['http://h/1', 'redis://:secretpw@h:notaport/1', 'redis://:secretpw@h/x', 'redis://', 'unix://relative.sock', 'redis://h:70000/0']) {
      assert.throws(() => parseRedisUrl(bad, noEnv), (err: unknown) => {
        assert.ok(isFsError(err, Errno.EINVAL), `${bad}: ${String(err)}`);
        assert.ok(!err.message.includes('secretpw'));
        return true;
      });
    }
  });
});
