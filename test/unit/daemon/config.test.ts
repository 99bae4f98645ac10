import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, type ConfigIssue } from '../../../src/daemon/config.js';
import { checkConfig } from '../../../src/cli/commands/config.js';
import { tmpDir } from '../../helpers/tmp.js';

function issuesOf(yaml: string, overrides = {}, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    parseConfig(yaml, 'test.yaml', overrides, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail('expected a ConfigError');
}

const keys = (issues: ConfigIssue[]): string[] => issues.map((i) => i.key).sort();

describe('configuration (docs/configuration.md)', function () {
  it('an empty file gives the documented defaults', function () {
    const c = parseConfig('', 'test.yaml', {}, {});
    assert.equal(c.dataDir, '/var/lib/ferry');
    assert.equal(c.meta.url, 'sqlite3:///var/lib/ferry/meta.db');
    assert.deepEqual(c.cache, { dirs: ['/var/cache/ferry'], cacheSize: 102400 * 2 ** 20, freeSpaceRatio: 0.1, writeBack: false, bufferSize: 300 * 2 ** 20 });
    assert.deepEqual({ ...c.nfs, exports: undefined }, { enabled: true, host: '0.0.0.0', port: 2049, mountPort: 20048, portmap: 'own', maxInFlight: 256, idleTimeoutSec: 360, dataAttrCacheMs: 1000, exports: undefined });
    assert.deepEqual(c.nfs.exports, [{ path: '/', clients: ['*'], access: 'rw', squash: 'root_squash', anonuid: 65534, anongid: 65534, secure: false }]);
    assert.deepEqual(c.webdav.listen, { host: '127.0.0.1', port: 8080 });
    assert.equal(c.webdav.allowPlainBasicAuth, false);
    assert.equal(c.webdav.anonymous, 'read-write', 'loopback listen without htpasswd');
    assert.equal(c.webdav.propfindInfinity, false);
    assert.deepEqual(c.admin.listen, { host: '127.0.0.1', port: 9567 });
    assert.deepEqual(c.log, { level: 'info', pretty: false });
    assert.deepEqual(c.secrets, {});
  });

  it('the shipped default file is valid and equals the built-in defaults', function () {
    const shipped = readFileSync(new URL('../../../../packaging/deb/ferry.yaml', import.meta.url), 'utf8');
    const { source: _a, ...fromFile } = parseConfig(shipped, 'ferry.yaml', {}, {});
    const { source: _b, ...builtIn } = parseConfig('', 'x', {}, {});
    assert.deepEqual(fromFile, builtIn);
  });

  it('the data dir moves the embedded metadata database with it', function () {
    assert.equal(parseConfig('data-dir: /srv/ferry\n', 't', {}, {}).meta.url, 'sqlite3:///srv/ferry/meta.db');
  });

  it('sizes accept MiB numbers and unit strings', function () {
    const c = parseConfig('cache:\n  cache-size: 1GiB\n  buffer-size: 64\n', 't', {}, {});
    assert.equal(c.cache.cacheSize, 2 ** 30);
    assert.equal(c.cache.bufferSize, 64 * 2 ** 20);
  });

  it('an unknown key is named with its full path, at any depth', function () {
    assert.deepEqual(keys(issuesOf('nfs:\n  exports:\n    - path: /a\n      sqash: all_squash\nwebdav:\n  lisen: 1\ntypo: 1\n')), ['nfs.exports.0.sqash', 'typo', 'webdav.lisen']);
  });

  it('a bad value names the key and says what is allowed', function () {
    const issues = issuesOf('nfs:\n  portmap: systemd\n  exports:\n    - path: relative\n      squash: everyone\n      clients: ["10.0.0.0/33"]\ncache:\n  cache-size: lots\n');
    assert.deepEqual(keys(issues), ['cache.cache-size', 'nfs.exports.0.clients.0', 'nfs.exports.0.path', 'nfs.exports.0.squash', 'nfs.portmap']);
    const portmap = issues.find((i) => i.key === 'nfs.portmap');
    assert.match(portmap?.message ?? '', /own.*rpcbind.*none/);
  });

  it('cross-key rules name the key to change', function () {
    assert.deepEqual(keys(issuesOf('nfs:\n  port: 2049\n  mount-port: 2049\n')), ['nfs.mount-port']);
    assert.deepEqual(keys(issuesOf('webdav:\n  tls:\n    cert: /etc/ferry/cert.pem\n')), ['webdav.tls.key']);
    assert.deepEqual(keys(issuesOf('webdav:\n  listen: 0.0.0.0:8080\n  htpasswd: /etc/ferry/htpasswd\n')), ['webdav.allow-plain-basic-auth']);
    assert.deepEqual(keys(issuesOf('webdav:\n  users:\n    - name: alice\n')), ['webdav.htpasswd']);
    assert.deepEqual(keys(issuesOf('nfs:\n  exports:\n    - path: /a\n    - path: /a\n')), ['nfs.exports.1.path']);
    assert.deepEqual(keys(issuesOf('webdav:\n  listen: 0.0.0.0:8080\n')), ['webdav.anonymous'], 'nobody could log in');
    assert.deepEqual(keys(issuesOf('nfs:\n  handle-secret: s3cret\n')), ['nfs.handle-secret'], 'a secret in the file');
    assert.equal(parseConfig('', 't', {}, { FERRY_NFS_HANDLE_SECRET: 'k' }).secrets.nfsHandleSecret, 'k');
  });

  it('secrets in the file are refused with the environment variable to use instead', function () {
    const issues = issuesOf('storage:\n  secret-key: hunter2\nmeta:\n  password: x\n');
    assert.deepEqual(keys(issues), ['meta.password', 'storage.secret-key']);
    assert.match(issues.find((i) => i.key === 'storage.secret-key')?.message ?? '', /FERRY_S3_SECRET_KEY/);
    assert.match(issues.find((i) => i.key === 'meta.password')?.message ?? '', /META_PASSWORD/);
  });

  it('secrets come from the environment; FERRY_S3_* wins over AWS_*, META_PASSWORD over REDIS_PASSWORD', function () {
    const env = { AWS_ACCESS_KEY_ID: 'aws-ak', AWS_SECRET_ACCESS_KEY: 'aws-sk', FERRY_S3_SECRET_KEY: 'ferry-sk', REDIS_PASSWORD: 'rp', META_PASSWORD: 'mp' };
    assert.deepEqual(parseConfig('', 't', {}, env).secrets, { metaPassword: 'mp', accessKey: 'aws-ak', secretKey: 'ferry-sk' });
    assert.deepEqual(parseConfig('storage:\n  access-key: file-ak\n', 't', {}, { REDIS_PASSWORD: 'rp' }).secrets, { metaPassword: 'rp', accessKey: 'file-ak' });
  });

  it('CLI overrides replace file values and are validated like them', function () {
    const yaml = 'meta:\n  url: redis://db:6379/1\nnfs:\n  port: 2049\nwebdav:\n  listen: 127.0.0.1:8080\n';
    const c = parseConfig(yaml, 't', { meta: 'redis://other:6379/2', dataDir: '/srv/f', nfsPort: 12049, mountPort: 12048, webdavListen: '[::1]:9000', nfs: false, webdav: false }, {});
    assert.equal(c.meta.url, 'redis://other:6379/2');
    assert.equal(c.dataDir, '/srv/f');
    assert.deepEqual([c.nfs.port, c.nfs.mountPort, c.nfs.enabled], [12049, 12048, false]);
    assert.deepEqual([c.webdav.listen, c.webdav.enabled], [{ host: '::1', port: 9000 }, false]);
    const issues = issuesOf(yaml, { nfsPort: 0, webdavListen: 'nonsense' });
    assert.deepEqual(keys(issues), ['nfs.port', 'webdav.listen']);
    assert.ok(issues.every((i) => /\(set by --(nfs-port|webdav-listen)\)/.test(i.message)), JSON.stringify(issues));
  });

  it('YAML syntax errors and duplicate keys are reported, not half-parsed', function () {
    assert.equal(issuesOf('nfs: [\n').length, 1);
    assert.match(issuesOf('nfs:\n  port: 1\n  port: 2\n')[0]?.message ?? '', /DUPLICATE_KEY/);
    assert.match(issuesOf('- a\n')[0]?.message ?? '', /mapping/);
  });

  it('loadConfig: an explicit missing file is an error, the default path may be absent', function () {
    const dir = tmpDir();
    assert.throws(() => loadConfig(join(dir, 'nope.yaml'), {}, {}), (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message));
    const file = join(dir, 'ferry.yaml');
    writeFileSync(file, 'log:\n  level: debug\n');
    const c = loadConfig(file, { nfs: false }, {});
    assert.equal(c.log.level, 'debug');
    assert.equal(c.nfs.enabled, false);
    assert.equal(c.source, file);
  });

  it('ferry config check exits 0 for a valid file and 1 naming each bad key otherwise', function () {
    const dir = tmpDir();
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'webdav:\n  enabled: false\n');
    writeFileSync(bad, 'nfs:\n  squash: all\nlog:\n  level: loud\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => { out.push(s); }, err: (s: string) => { err.push(s); } };
    assert.equal(checkConfig(good, io), 0);
    assert.match(out.join(''), /OK \(nfs on 0\.0\.0\.0:2049\)/);
    assert.equal(checkConfig(bad, io), 1);
    assert.match(err.join(''), /nfs\.squash: unknown key/);
    assert.match(err.join(''), /log\.level: /);
  });
});
