/**
 * The Linux kernel NFSv3 client against `ferry serve` (the built CLI, embedded default volume in a
 * temp dir, no_root_squash export /export on free ports): nfs-vm boots a qemu guest with Debian's
 * kernel, mounts the export (vers=3,tcp,nolock) and runs test/e2e/nfs/posix-suite.sh there; any
 * FAIL line fails this test. Needs root, qemu-system-x86 and kmod, and ../shared/tools/nfs-vm
 * beside the repository (or NFSVM=path). Several minutes under emulation, so it is not part of
 * `npm test`: run it with `npm run test:kernel`. NFSVM_CACHE, BIG_MB and MANY tune it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MOUNT_PROG, MOUNT_V3, MOUNTPROC3_NULL } from '../../../src/protocols/nfs/mount/types.js';
import { SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { freePort } from '../../helpers/free-port.js';
import { RpcTestClient } from '../../helpers/rpc-client.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const nfsVm = process.env['NFSVM'] ?? join(repoRoot, '..', 'shared', 'tools', 'nfs-vm', 'nfs-vm');
const vmCache = process.env['NFSVM_CACHE'] ?? join(homedir(), '.cache', 'ferry-nfs-vm');
const suite = join(repoRoot, 'test', 'e2e', 'nfs', 'posix-suite.sh');
const bigMb = process.env['BIG_MB'] ?? '1024';
const many = process.env['MANY'] ?? '10000';

async function waitForMount(port: number, deadline: number): Promise<void> {
  for (;;) {
    try {
      const c = await RpcTestClient.connect(port);
      const reply = await c.call({ prog: MOUNT_PROG, vers: MOUNT_V3, proc: MOUNTPROC3_NULL });
      await c.close();
      if (reply.stat === SUCCESS) return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`ferry serve did not answer on port ${port}`, { cause: err });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Linux kernel NFSv3 client (nfs-vm guest) against ferry serve', function () {
  this.timeout(40 * 60_000);
  let server: ChildProcess | null = null;
  let serverLog = '';
  let nfsPort = 0;
  let mountPort = 0;

  before(async () => {
    assert.ok(existsSync(nfsVm), `nfs-vm not found at ${nfsVm} (set NFSVM)`);
    const env = { ...process.env, NFSVM_CACHE: vmCache };
    if (!existsSync(join(vmCache, 'vmlinuz')) || !existsSync(join(vmCache, 'initramfs.cpio.gz'))) {
      await run(nfsVm, ['setup'], { env, timeout: 15 * 60_000 });
    }
    const dir = tmpDir('ferry-kernel-');
    const config = join(dir, 'ferry.yaml');
    writeFileSync(config, 'nfs:\n  exports:\n    - path: /\n      name: /export\n      squash: no_root_squash\n');
    nfsPort = await freePort();
    mountPort = await freePort();
    const args = [
      join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'serve', '--config', config, '--data-dir', join(dir, 'data'),
      '--nfs-port', String(nfsPort), '--mount-port', String(mountPort), '--host', '127.0.0.1', '--portmap', 'none', '--no-webdav', '--no-admin',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
    server = child;
    const keep = (b: Buffer): void => { serverLog = (serverLog + b.toString()).slice(-20_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitForMount(mountPort, Date.now() + 30_000);
  });

  after(async () => {
    const child = server;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  });

  it('passes the POSIX suite: every check PASS, none FAIL', async () => {
    const args = [
      'run', '--timeout', '2100', '--nfs-port', String(nfsPort), '--mount-port', String(mountPort), '--export', '/export',
      '--env', `BIG_MB=${bigMb}`, '--env', `MANY=${many}`, '--', suite,
    ];
    let stdout: string;
    let status = 0;
    try {
      ({ stdout } = await run(nfsVm, args, { env: { ...process.env, NFSVM_CACHE: vmCache }, maxBuffer: 64 * 1024 * 1024 }));
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      stdout = `${e.stdout ?? ''}\n${e.stderr ?? ''}`;
      status = e.code ?? -1;
    }
    process.stdout.write(stdout.split('\n').filter((l) => /^(PASS|FAIL|\d+ passed)/.test(l)).map((l) => `      ${l}\n`).join(''));
    const failed = stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    assert.deepEqual(failed, [], `${stdout}\n--- ferry log tail ---\n${serverLog}`);
    assert.equal(status, 0, `nfs-vm exit ${status}\n${stdout}`);
    assert.match(stdout, /^\d+ passed, 0 failed$/m, stdout);
    assert.equal(server?.exitCode, null, 'ferry serve is still running');
  });
});
