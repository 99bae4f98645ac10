/**
 * The Debian package (packaging/deb): builds build/ferry_<version>_amd64.deb once (or takes
 * FERRY_DEB), then checks it with lintian, checks the systemd unit with systemd-analyze verify,
 * runs the packaged program with the packaged Node runtime, and installs and purges it in a
 * clean Debian 12 root (debootstrap, cached in build/cache). Run alone with
 * `npm run test:package`; building takes a few minutes the first time (native addon compile),
 * later builds reuse build/cache.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as helpers from '../../helpers/debian-root.js';
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
    for (const p of ['usr/bin/ferry', 'usr/lib/ferry/node/bin/node', 'usr/lib/ferry/dist/src/cli/main.js', 'usr/lib/ferry/dist/native/sd-notify.node',
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
    assert.match(run(node, ['--version']).stdout, /^v24\./);
    assert.equal(run(node, [main, '--version']).stdout.trim(), version);
    const check = run(node, [main, 'config', 'check', join(root, 'etc/ferry/ferry.yaml')]);
    assert.equal(check.status, 0, check.stderr);
    const bad = join(tmpDir(), 'bad.yaml');
    writeFileSync(bad, 'nfs:\n  port: nope\n');
    const badCheck = run(node, [main, 'config', 'check', bad]);
    assert.equal(badCheck.status, 1);
    assert.match(badCheck.stderr, /nfs\.port/);
    const lib = join(root, 'usr/lib/ferry');
    const load = run(node, ['-e', `const D = require('${lib}/node_modules/better-sqlite3'); const db = new D(':memory:'); db.prepare('select 1').get(); db.close(); require('${lib}/dist/native/sd-notify.node');`]);
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

describe('Debian package installed in a clean Debian 12 root', function () {
  this.timeout(900_000);
  let root = '';
  let before: Set<string>;

  // Paths that change whenever dpkg or adduser run, whatever the package: database, logs, backups, locks.
  const churn = /^\/(var\/lib\/dpkg|var\/log|run\/adduser$|var\/cache\/debconf|tmp|etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$|var\/lib\/systemd\/deb-systemd-helper-enabled$)/;
  const snapshot = (): Set<string> => new Set(execFileSync('find', [root, '-xdev'], { encoding: 'utf8', maxBuffer: 256 << 20 })
    .split('\n').filter((p) => p !== '').map((p) => p.slice(root.length) || '/').filter((p) => !churn.test(p)));

  it('dpkg -i installs it offline, ferry --version runs, the user exists; purge leaves nothing behind', function () {
    const { cleanDebianRoot, inRoot } = helpers;
    root = cleanDebianRoot();
    before = snapshot();
    const deb = process.env['FERRY_DEB'] ?? join(repo, `build/ferry_${version}_amd64.deb`);
    copyFileSync(deb, join(root, 'tmp/ferry.deb'));

    const install = inRoot(root, ['dpkg', '-i', '/tmp/ferry.deb']);
    assert.equal(install.status, 0, install.out);
    assert.equal(inRoot(root, ['ferry', '--version']).out.trim(), version);
    assert.equal(inRoot(root, ['ferry', 'config', 'check', '/etc/ferry/ferry.yaml']).status, 0);
    assert.match(inRoot(root, ['getent', 'passwd', 'ferry']).out, /^ferry:x:\d+:\d+:.*:\/var\/lib\/ferry:\/usr\/sbin\/nologin$/m);
    assert.equal(inRoot(root, ['getent', 'group', 'ferry']).status, 0);

    const purge = inRoot(root, ['dpkg', '--purge', 'ferry']);
    assert.equal(purge.status, 0, purge.out);
    rmSync(join(root, 'tmp/ferry.deb'));
    assert.notEqual(inRoot(root, ['getent', 'passwd', 'ferry']).status, 0, 'user ferry removed on purge');
    assert.notEqual(inRoot(root, ['getent', 'group', 'ferry']).status, 0, 'group ferry removed on purge');
    const after = snapshot();
    assert.deepEqual([...after].filter((p) => !before.has(p)), [], 'files left after purge');
  });
});
