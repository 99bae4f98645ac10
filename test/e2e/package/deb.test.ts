/**
 * The Debian package (packaging/deb): builds build/ferry_<version>_amd64.deb once (or takes
 * FERRY_DEB), then checks it with lintian, checks the systemd unit with systemd-analyze verify,
 * runs the packaged program with the packaged Node runtime, and in a clean Debian 12 root
 * (debootstrap, cached in build/cache) installs it, serves the embedded default volume as the
 * ferry user (listed from the host with nfs-ls and curl PROPFIND), upgrades it to a higher
 * version (the edited conffile survives) and purges it (nothing left). Run alone with
 * `npm run test:package`; building takes a few minutes the first time (native addon compile),
 * later builds reuse build/cache.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as helpers from '../../helpers/debian-root.js';
import { waitReady } from '../../helpers/appliance.js';
import { freePort } from '../../helpers/free-port.js';
import { tmpDir } from '../../helpers/tmp.js';

const repo = new URL('../../../../', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? repo, env: { ...process.env, ...opts.env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Debian package (packaging/deb)', function () {
  this.timeout(600_000);
  let deb = '';
  let root = '';

  before(function () {
    deb = process.env['FERRY_DEB'] ?? '';
    if (deb === '') {
      const r = run('sh', ['packaging/deb/build.sh']);
      assert.equal(r.status, 0, `build.sh failed:\n${r.stdout}\n${r.stderr}`);
      deb = join(repo, r.stdout.trim().split('\n').pop() ?? '');
    }
    assert.ok(existsSync(deb), `no package at ${deb}`);
    root = tmpDir('ferry-deb-');
    execFileSync('dpkg-deb', ['-x', deb, root]);
  });

  it(`is named ferry_${version}_amd64.deb and declares package, version, architecture and conffile`, function () {
    assert.match(deb, new RegExp(`/ferry_${version.replace(/\./g, '\\.')}_amd64\\.deb$`));
    const field = (f: string): string => execFileSync('dpkg-deb', ['-f', deb, f], { encoding: 'utf8' }).trim();
    assert.deepEqual([field('Package'), field('Version'), field('Architecture')], ['ferry', version, 'amd64']);
    assert.match(field('Depends'), /adduser/);
    const ctl = tmpDir('ferry-ctl-');
    execFileSync('dpkg-deb', ['-e', deb, ctl]);
    assert.equal(readFileSync(join(ctl, 'conffiles'), 'utf8').trim(), '/etc/ferry/ferry.yaml');
    for (const s of ['postinst', 'prerm', 'postrm']) assert.ok(existsSync(join(ctl, s)), `${s} is missing`);
  });

  it('contains the program, its runtime, the wrapper, the unit, the default config and the docs', function () {
    for (const p of ['usr/bin/ferry', 'usr/lib/ferry/node/bin/node', 'usr/lib/ferry/dist/src/cli/main.js', 'usr/lib/ferry/dist/native/ferry.node',
      'usr/lib/ferry/node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'lib/systemd/system/ferry.service', 'etc/ferry/ferry.yaml',
      'usr/share/doc/ferry/copyright', 'usr/share/doc/ferry/changelog.gz', 'usr/share/doc/ferry/configuration.md']) {
      assert.ok(existsSync(join(root, p)), `${p} is missing`);
    }
    assert.ok(!existsSync(join(root, 'usr/lib/ferry/node_modules/mocha')), 'dev dependencies are not shipped');
    assert.ok(!existsSync(join(root, 'usr/lib/ferry/dist/test')), 'tests are not shipped');
  });

  it('the packaged program runs on the packaged Node: --version, config check, better-sqlite3 and the notify addon load', function () {
    const node = join(root, 'usr/lib/ferry/node/bin/node');
    const main = join(root, 'usr/lib/ferry/dist/src/cli/main.js');
    const shipped = readFileSync(join(repo, 'packaging/deb/NODE_VERSION'), 'utf8').trim();
    assert.equal(run(node, ['--version']).stdout.trim(), `v${shipped}`);
    assert.equal(run(node, [main, '--version']).stdout.trim(), version);
    const check = run(node, [main, 'config', 'check', join(root, 'etc/ferry/ferry.yaml')]);
    assert.equal(check.status, 0, check.stderr);
    const bad = join(tmpDir(), 'bad.yaml');
    writeFileSync(bad, 'nfs:\n  port: nope\n');
    const badCheck = run(node, [main, 'config', 'check', bad]);
    assert.equal(badCheck.status, 1);
    assert.match(badCheck.stderr, /nfs\.port/);
    const lib = join(root, 'usr/lib/ferry');
    const load = run(node, ['-e', `const D = require('${lib}/node_modules/better-sqlite3'); const db = new D(':memory:'); db.prepare('select 1').get(); db.close(); require('${lib}/dist/native/ferry.node');`]);
    assert.equal(load.status, 0, load.stderr);
  });

  it('lintian reports no errors', function () {
    const r = run('lintian', ['--no-tag-display-limit', deb]);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('E: '));
    assert.deepEqual(errors, [], r.stdout);
    assert.ok(r.status === 0 || r.status === 1, `lintian failed to run: ${r.stderr}`);
  });

  it('systemd-analyze verify accepts ferry.service without a warning', function () {
    // verify insists that ExecStart's binary exists: point it at a stub instead of /usr/bin/ferry.
    const dir = tmpDir('ferry-unit-');
    const stub = join(dir, 'ferry');
    writeFileSync(stub, '#!/bin/sh\n');
    chmodSync(stub, 0o755);
    const unit = readFileSync(join(repo, 'systemd/ferry.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/bin\/ferry serve/m);
    writeFileSync(join(dir, 'ferry.service'), unit.replaceAll('/usr/bin/ferry', stub));
    const r = run('systemd-analyze', ['verify', join(dir, 'ferry.service')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
    copyFileSync(join(root, 'lib/systemd/system/ferry.service'), join(dir, 'shipped.service'));
    assert.equal(readFileSync(join(dir, 'shipped.service'), 'utf8'), unit, 'the .deb ships systemd/ferry.service unchanged');
    for (const d of ['Type=notify', 'User=ferry', 'StateDirectory=ferry', 'CacheDirectory=ferry', 'LimitNOFILE=1048576', 'ProtectSystem=strict', 'ProtectHome=true',
      'NoNewPrivileges=true', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'WatchdogSec=30', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      assert.ok(unit.split('\n').includes(d), `${d} missing`);
    }
  });
});

/** A copy of `deb` as version `next`: same files, control Version and the program's package.json changed. */
function repackAs(deb: string, next: string): string {
  const dir = join(tmpDir('ferry-repack-'), 'pkg');
  execFileSync('dpkg-deb', ['-R', deb, dir]);
  const control = join(dir, 'DEBIAN/control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${next}`));
  const pkg = join(dir, 'usr/lib/ferry/package.json');
  writeFileSync(pkg, readFileSync(pkg, 'utf8').replace(/"version": "[^"]*"/, `"version": "${next}"`));
  const out = join(dirname(dir), `ferry_${next}_amd64.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Znone', '-b', dir, out], { stdio: 'ignore' });
  return out;
}

interface ServingRoot {
  ports: { nfs: number; mount: number; webdav: number; admin: number };
  child: ChildProcess;
  out(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `ferry serve` with the installed /etc/ferry/ferry.yaml, run inside the root as the ferry user,
 * with loopback listeners on free ports (the root shares the host network); resolves once ready.
 */
async function serveInRoot(root: string): Promise<ServingRoot> {
  const ports = { nfs: await freePort(), mount: await freePort(), webdav: await freePort(), admin: await freePort() };
  const child = helpers.spawnInRoot(root, 'ferry', ['/usr/bin/ferry', 'serve', '--config', '/etc/ferry/ferry.yaml', '--host', '127.0.0.1',
    '--portmap', 'none', '--nfs-port', String(ports.nfs), '--mount-port', String(ports.mount), '--webdav-listen', `127.0.0.1:${ports.webdav}`,
    '--admin-listen', `127.0.0.1:${ports.admin}`]);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitReady(ports.admin, () => child.exitCode !== null, () => out);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    ports, child, out: () => out,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** PROPFIND Depth 1 of the WebDAV root with curl from the host: the status and the body. */
function propfind(port: number): { status: string; body: string } {
  const r = run('curl', ['-sS', '-X', 'PROPFIND', '-H', 'Depth: 1', '-w', '\n%{http_code}', `http://127.0.0.1:${port}/`]);
  assert.equal(r.status, 0, r.stderr);
  const cut = r.stdout.lastIndexOf('\n');
  return { body: r.stdout.slice(0, cut), status: r.stdout.slice(cut + 1) };
}

describe('Debian package installed in a clean Debian 12 root', function () {
  this.timeout(900_000);
  const { cleanDebianRoot, inRoot } = helpers;
  const next = `${version}+upgrade1`;
  let root = '';
  let initial: Set<string>;
  let serving: ServingRoot | undefined;

  // Paths that change whenever dpkg or adduser run, whatever the package: database, logs, backups, locks.
  const churn = /^\/(var\/lib\/dpkg|var\/log|run\/adduser$|var\/cache\/debconf|tmp|etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$|var\/lib\/systemd\/deb-systemd-helper-enabled$)/;
  const snapshot = (): Set<string> => new Set(execFileSync('find', [root, '-xdev'], { encoding: 'utf8', maxBuffer: 256 << 20 })
    .split('\n').filter((p) => p !== '').map((p) => p.slice(root.length) || '/').filter((p) => !churn.test(p)));
  /** What systemd's StateDirectory= and CacheDirectory= would create before starting the unit. */
  const systemdDirs = (): void => {
    const r = inRoot(root, ['install', '-d', '-o', 'ferry', '-g', 'ferry', '-m', '0750', '/var/lib/ferry', '/var/cache/ferry']);
    assert.equal(r.status, 0, r.out);
  };

  before(function () {
    root = cleanDebianRoot();
    initial = snapshot();
  });

  afterEach(async function () {
    if (serving !== undefined && serving.child.exitCode === null) {
      serving.child.kill('SIGKILL');
      await serving.stop();
    }
    serving = undefined;
  });

  it('dpkg -i installs it offline, ferry --version runs, the ferry user exists', function () {
    const deb = process.env['FERRY_DEB'] ?? join(repo, `build/ferry_${version}_amd64.deb`);
    copyFileSync(deb, join(root, 'tmp/ferry.deb'));
    const install = inRoot(root, ['dpkg', '-i', '/tmp/ferry.deb']);
    assert.equal(install.status, 0, install.out);
    assert.equal(inRoot(root, ['ferry', '--version']).out.trim(), version);
    assert.equal(inRoot(root, ['ferry', 'config', 'check', '/etc/ferry/ferry.yaml']).status, 0);
    assert.match(inRoot(root, ['getent', 'passwd', 'ferry']).out, /^ferry:x:\d+:\d+:.*:\/var\/lib\/ferry:\/usr\/sbin\/nologin$/m);
    assert.equal(inRoot(root, ['getent', 'group', 'ferry']).status, 0);
  });

  it('ferry serve on the embedded default runs as the ferry user: nfs-ls and curl PROPFIND list it from the host, SIGTERM exits 0', async function () {
    systemdDirs();
    serving = await serveInRoot(root);
    const { ports } = serving;
    const put = run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', '-', `http://127.0.0.1:${ports.webdav}/from-webdav.txt`], {});
    assert.equal(put.stdout, '201', put.stderr);
    const dav = propfind(ports.webdav);
    assert.equal(dav.status, '207');
    assert.match(dav.body, /from-webdav\.txt/);
    const ls = run('nfs-ls', [`nfs://127.0.0.1/?version=3&nfsport=${ports.nfs}&mountport=${ports.mount}&uid=1000&gid=1000`]);
    assert.equal(ls.status, 0, `${ls.stderr}\n${serving.out()}`);
    assert.match(ls.stdout, /from-webdav\.txt/);
    assert.equal(await serving.stop(), 0, serving.out());
    const owner = inRoot(root, ['stat', '-c', '%U', '/var/lib/ferry/meta.db']);
    assert.equal(owner.out.trim(), 'ferry', 'the volume belongs to the ferry user');
  });

  it('an upgrade to a higher version keeps the edited /etc/ferry/ferry.yaml and the new version serves the same volume', async function () {
    const conf = join(root, 'etc/ferry/ferry.yaml');
    const edited = readFileSync(conf, 'utf8').replace(/^(\s*level:\s*)info\b/m, '$1warn') + '# edited by the operator\n';
    assert.notEqual(edited, readFileSync(conf, 'utf8'));
    writeFileSync(conf, edited);
    copyFileSync(repackAs(process.env['FERRY_DEB'] ?? join(repo, `build/ferry_${version}_amd64.deb`), next), join(root, 'tmp/ferry.deb'));
    const upgrade = inRoot(root, ['dpkg', '-i', '/tmp/ferry.deb']);
    assert.equal(upgrade.status, 0, upgrade.out);
    assert.equal(readFileSync(conf, 'utf8'), edited, 'the conffile keeps the edit');
    assert.equal(inRoot(root, ['dpkg-query', '-W', '-f', '${Version}', 'ferry']).out, next);
    assert.equal(inRoot(root, ['ferry', '--version']).out.trim(), next);
    serving = await serveInRoot(root);
    assert.match(propfind(serving.ports.webdav).body, /from-webdav\.txt/, 'the volume of the old version is served');
    assert.equal(await serving.stop(), 0, serving.out());
  });

  it('purge removes /etc/ferry, /var/lib/ferry, /var/cache/ferry and the user, and leaves nothing else behind', function () {
    const purge = inRoot(root, ['dpkg', '--purge', 'ferry']);
    assert.equal(purge.status, 0, purge.out);
    rmSync(join(root, 'tmp/ferry.deb'));
    for (const p of ['etc/ferry', 'var/lib/ferry', 'var/cache/ferry', 'usr/lib/ferry', 'usr/bin/ferry']) assert.ok(!existsSync(join(root, p)), `/${p} is left`);
    assert.notEqual(inRoot(root, ['getent', 'passwd', 'ferry']).status, 0, 'user ferry removed on purge');
    assert.notEqual(inRoot(root, ['getent', 'group', 'ferry']).status, 0, 'group ferry removed on purge');
    const after = snapshot();
    assert.deepEqual([...after].filter((p) => !initial.has(p)), [], 'files left after purge');
  });
});
