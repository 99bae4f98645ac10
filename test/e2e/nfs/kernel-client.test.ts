/**
 * The Linux kernel NFSv3 client against `ferry serve` (the built CLI as a child process, embedded
 * default volume in a temp dir, no_root_squash export /export on free ports): test/e2e/nfs/vm/nfs-vm
 * boots a qemu guest with Debian's kernel, mounts the export (vers=3,tcp,nolock, hard) and runs a
 * guest script; any FAIL line fails the test. The POSIX suite (posix-suite.sh), a restart test
 * (restart-guest.sh): ferry is SIGKILLed and started again while the guest holds the mount, and a
 * Redis outage test (outage-guest.sh): ferry on a Redis volume whose redis-server is stopped and
 * started again while the guest works on the mount.
 * Needs root, qemu-system-x86 and kmod. Minutes under emulation, so not part of `npm test`:
 * `npm run test:kernel` (in .ci/run). NFSVM, NFSVM_CACHE, BIG_MB and MANY tune it.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MOUNT_PROG, MOUNT_V3, MOUNTPROC3_NULL } from '../../../src/protocols/nfs/mount/types.js';
import { FILE_SYNC, NFS3_OK } from '../../../src/protocols/nfs/nfs3/types.js';
import { SUCCESS } from '../../../src/protocols/nfs/rpc/message.js';
import { formatFileVolume } from '../../helpers/ferry-serve.js';
import { freePort } from '../../helpers/free-port.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { DURABLE_REDIS_ARGS, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { RpcTestClient, sysCred } from '../../helpers/rpc-client.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const nfsVm = process.env['NFSVM'] ?? join(repoRoot, 'test', 'e2e', 'nfs', 'vm', 'nfs-vm');
const vmCache = process.env['NFSVM_CACHE'] ?? join(homedir(), '.cache', 'ferry-nfs-vm');
const vmEnv = { ...process.env, NFSVM_CACHE: vmCache };
const guestScript = (name: string): string => join(repoRoot, 'test', 'e2e', 'nfs', name);
const bigMb = process.env['BIG_MB'] ?? '1024';
const many = process.env['MANY'] ?? '10000';
const EXPORT = '/export';

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

/** `ferry serve` as a child process on fixed ports over one data dir; can be killed and started again. */
class FerryServe {
  readonly nfsPort: number;
  readonly mountPort: number;
  readonly #args: string[];
  #child: ChildProcess | null = null;
  /** Tail of the output of every process started so far. */
  log = '';

  private constructor(dir: string, nfsPort: number, mountPort: number, extra: readonly string[]) {
    this.nfsPort = nfsPort;
    this.mountPort = mountPort;
    const config = join(dir, 'ferry.yaml');
    writeFileSync(config, `nfs:\n  exports:\n    - path: /\n      name: ${EXPORT}\n      squash: no_root_squash\n`);
    this.#args = [
      join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'serve', '--config', config, '--data-dir', join(dir, 'data'),
      '--nfs-port', String(nfsPort), '--mount-port', String(mountPort), '--host', '127.0.0.1', '--portmap', 'none', '--no-webdav', '--no-admin',
      ...extra,
    ];
  }

  /** `extra`: more `ferry serve` flags (e.g. `--meta URL`). */
  static async start(extra: readonly string[] = []): Promise<FerryServe> {
    const s = new FerryServe(tmpDir('ferry-kernel-'), await freePort(), await freePort(), extra);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, this.#args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
    this.#child = child;
    const keep = (b: Buffer): void => { this.log = (this.log + b.toString()).slice(-20_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitForMount(this.mountPort, Date.now() + 60_000);
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 30 s). */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

interface GuestRun {
  out: string;
  status: number | null;
}

/**
 * Runs `script` in a guest that mounts `server`'s export; `onLine` sees each stdout line as it
 * arrives (the restart test reacts to one); `signal` stops the VM, and so does `timeoutSec` (nfs-vm
 * then exits 124). `out` is stdout and stderr.
 */
async function runGuest(server: FerryServe, script: string, timeoutSec: number, env: string[], signal?: AbortSignal, onLine: (line: string) => void = () => undefined): Promise<GuestRun> {
  const args = [
    'run', '--timeout', String(timeoutSec), '--nfs-port', String(server.nfsPort), '--mount-port', String(server.mountPort), '--export', EXPORT,
    ...env.flatMap((e) => ['--env', e]), '--script', script,
  ];
  const child = spawn(nfsVm, args, { env: vmEnv, stdio: ['ignore', 'pipe', 'pipe'], ...(signal === undefined ? {} : { signal }) });
  let out = '';
  let partial = '';
  // The guest's consoles may turn \n into \r\n.
  const text = (b: Buffer): string => b.toString().replaceAll('\r', '');
  child.stdout.on('data', (b: Buffer) => {
    out += text(b);
    const lines = (partial + text(b)).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      // Progress into the test log as it happens: the suites run for minutes.
      if (/^(PASS|FAIL|\d+ passed)/.test(l)) process.stdout.write(`      ${l}\n`);
      onLine(l);
    }
  });
  child.stderr.on('data', (b: Buffer) => { out += text(b); });
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => { if (signal?.aborted !== true) reject(err); });
    child.once('close', (code) => resolve(code));
  });
  return { out, status };
}

/**
 * runGuest for a script that prints `readyLine` and then waits for the host: `hostStep` runs once
 * that line arrives (a failing step stops the guest at once instead of letting it wait), and the
 * run is returned after both the guest and the step are done.
 */
async function runGuestWithHostStep(server: FerryServe, script: string, timeoutSec: number, env: string[], readyLine: string, hostStep: () => Promise<void>): Promise<GuestRun> {
  const abort = new AbortController();
  const state: { step: Promise<void> | null; error: unknown } = { step: null, error: null };
  const r = await runGuest(server, guestScript(script), timeoutSec, env, abort.signal, (line) => {
    if (line !== readyLine || state.step !== null) return;
    state.step = hostStep().catch((err: unknown) => { state.error = err; abort.abort(); });
  });
  assert.ok(state.step !== null, `the guest never printed ${readyLine}\n${r.out}`);
  await state.step;
  if (state.error !== null) throw state.error;
  return r;
}

/** Asserts the guest script passed every one of its `checks` checks. */
function assertAllPassed(r: GuestRun, server: FerryServe, checks: number): void {
  const lines = r.out.split('\n');
  const failed = lines.filter((l) => l.startsWith('FAIL'));
  assert.deepEqual(failed, [], `${r.out}\n--- ferry log tail ---\n${server.log}`);
  assert.equal(r.status, 0, `nfs-vm exit ${r.status}\n${r.out}\n--- ferry log tail ---\n${server.log}`);
  assert.match(r.out, new RegExp(`^${checks} passed, 0 failed$`, 'm'), r.out);
}

describe('Linux kernel NFSv3 client (nfs-vm guest) against ferry serve', function () {
  this.timeout(50 * 60_000);

  before(async () => {
    assert.ok(existsSync(nfsVm), `nfs-vm not found at ${nfsVm} (set NFSVM)`);
    if (!existsSync(join(vmCache, 'vmlinuz')) || !existsSync(join(vmCache, 'initramfs.cpio.gz'))) {
      await run(nfsVm, ['setup'], { env: vmEnv, timeout: 15 * 60_000 });
    }
  });

  describe('POSIX suite', () => {
    let server: FerryServe;
    before(async () => { server = await FerryServe.start(); });
    after(async () => { await server.stop('SIGTERM'); });

    it('passes the POSIX suite: every check PASS, none FAIL', async () => {
      const r = await runGuest(server, guestScript('posix-suite.sh'), 2400, [`BIG_MB=${bigMb}`, `MANY=${many}`]);
      assertAllPassed(r, server, 16);
      assert.ok(server.running, 'ferry serve is still running');
    });
  });

  describe('server restart under a mounted client', () => {
    let server: FerryServe;
    before(async () => { server = await FerryServe.start(); });
    after(async () => { await server.stop('SIGTERM'); });

    it('after SIGKILL and a restart on the same ports the guest keeps its cwd, fds and handles, and fsynced bytes are intact', async () => {
      const restart = async (): Promise<void> => {
        await server.stop('SIGKILL');
        assert.ok(!server.running);
        await server.start();
        // Tell the guest: it polls this file (each open revalidates, close-to-open).
        const c = await Nfs3TestClient.connect(server.nfsPort, sysCred(0, 0));
        try {
          const root = await c.mount(server.mountPort, EXPORT);
          assert.ok(root.fh, 'MNT after restart');
          const phase = await c.lookup(root.fh, 'restart.phase');
          assert.ok(phase.fh, 'restart.phase written by the guest before the kill');
          assert.equal((await c.write(phase.fh, 0, Buffer.from('restarted\n'), FILE_SYNC)).status, NFS3_OK);
        } finally {
          await c.close();
        }
      };
      const r = await runGuestWithHostStep(server, 'restart-guest.sh', 900, ['WAIT_SEC=300'], 'RESTART-READY', restart);
      assertAllPassed(r, server, 6);
      assert.ok(server.running, 'the restarted ferry serve is still running');
    });
  });

  describe('Redis outage under a mounted client', () => {
    /** How long Redis stays away once the guest is ready. */
    const OUTAGE_MS = 12_000;
    let redis: RedisServer;
    let server: FerryServe;
    before(async () => {
      redis = await startRedis({ databases: 2, args: DURABLE_REDIS_ARGS });
      await formatFileVolume(redis.url(1), 'outage');
      server = await FerryServe.start(['--meta', redis.url(1)]);
    });
    after(async () => {
      await server.stop('SIGTERM');
      await redis.stop();
    });

    it('while Redis is stopped and started again, the guest\'s reads, creates, fsyncs and listings wait and then succeed', async () => {
      const outage = async (): Promise<void> => {
        await redis.stop();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        redis = await redis.startAgain();
      };
      const r = await runGuestWithHostStep(server, 'outage-guest.sh', 600, [], 'OUTAGE-READY', outage);
      assertAllPassed(r, server, 4);
      assert.ok(server.running, 'ferry serve kept running through the outage');
    });
  });
});
