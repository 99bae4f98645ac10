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
      address: { kind: 'tcp', host: '10.0.0.5', port: 6380 }, tls: undefined, db: 3, username: 'alice', password: 's3cret', ignored: [],
    });
  });

  it('defaults: port 6379, db 0, no credentials', () => {
    assert.deepEqual(parseRedisUrl('redis://localhost', noEnv), { address: { kind: 'tcp', host: 'localhost', port: 6379 }, tls: undefined, db: 0, ignored: [] });
    assert.deepEqual(parseRedisUrl('redis://localhost/', noEnv).db, 0);
  });

  it('password only (":pass@"), percent-encoded characters decoded', () => {
    const t = parseRedisUrl('redis://:p%40ss%2Fw@h:1/2', noEnv);
    assert.equal(t.username, undefined);
    assert.equal(t.password, 'p@ss/w');
  });

  it('rediss:// turns TLS on, verifying the server against the system CAs by default', () => {
    assert.deepEqual(parseRedisUrl('rediss://h:6379/1', noEnv).tls, { skipVerify: false });
  });

  it('rediss:// takes the JuiceFS TLS options: client certificate and key, CA, server name, skip-verify', () => {
    const t = parseRedisUrl('rediss://h:6379/1?tls-cert-file=/etc/c%20c.crt&tls-key-file=/etc/c.key&tls-ca-cert-file=ca.pem&tls-server-name=redis.lan', noEnv);
    assert.deepEqual(t.tls, { certFile: '/etc/c c.crt', keyFile: '/etc/c.key', caFile: 'ca.pem', serverName: 'redis.lan', skipVerify: false });
    assert.deepEqual(t.ignored, []);
    for (const [v, skip] of [['true', true], ['1', true], ['', true], ['false', false], ['0', false]] as const) {
      assert.equal(parseRedisUrl(`rediss://h/1?insecure-skip-verify=${v}`, noEnv).tls?.skipVerify, skip, v);
    }
    assert.throws(() => parseRedisUrl('rediss://h/1?insecure-skip-verify=maybe', noEnv), { errno: Errno.EINVAL });
    assert.throws(() => parseRedisUrl('rediss://h/1?tls-cert-file=/c.crt', noEnv), { errno: Errno.EINVAL }, 'a certificate without its key');
  });

  it('query options Ferry does not use are reported in ignored (TLS options too when TLS is off)', () => {
    assert.deepEqual(parseRedisUrl('redis://h/1?max-retry-backoff=10s&tls-ca-cert-file=ca.pem&max-retry-backoff=5s', noEnv).ignored, ['max-retry-backoff', 'tls-ca-cert-file']);
    assert.deepEqual(parseRedisUrl('rediss://h/1?route-read=replica&tls-ca-cert-file=ca.pem', noEnv).ignored, ['route-read']);
  });

  it('read-timeout (alias read_timeout) is a Go duration, in ms; a malformed one is EINVAL', () => {
    assert.equal(parseRedisUrl('redis://h/1?read-timeout=500ms', noEnv).readTimeoutMs, 500);
    assert.equal(parseRedisUrl('redis://h/1?read_timeout=1m30s', noEnv).readTimeoutMs, 90_000);
    assert.equal(parseRedisUrl('redis://h/1?read-timeout=2s&read_timeout=9s', noEnv).readTimeoutMs, 2000, 'read-timeout wins');
    assert.equal(parseRedisUrl('redis://h/1?read-timeout=-1s', noEnv).readTimeoutMs, -1000);
    assert.equal(parseRedisUrl('redis://h/1', noEnv).readTimeoutMs, undefined);
    assert.deepEqual(parseRedisUrl('redis://h/1?read-timeout=5s', noEnv).ignored, []);
    for (const bad of ['30', '5x', '']) {
      assert.throws(() => parseRedisUrl(`redis://h/1?read-timeout=${bad}`, noEnv), { errno: Errno.EINVAL }, bad);
    }
  });

  it('IPv6 literal hosts in brackets', () => {
    assert.deepEqual(parseRedisUrl('redis://[::1]:7000/4', noEnv).address, { kind: 'tcp', host: '::1', port: 7000 });
  });

  it('unix:// socket path with ?db=', () => {
    assert.deepEqual(parseRedisUrl('unix://:pw@/var/run/redis.sock?db=5', noEnv), {
      address: { kind: 'unix', path: '/var/run/redis.sock' }, tls: undefined, db: 5, password: 'pw', ignored: [],
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
