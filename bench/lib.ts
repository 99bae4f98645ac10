/**
 * Helpers shared by the protocol benchmarks (bench/nfs.ts, bench/webdav.ts) and bench/data.ts:
 * timing and throughput arithmetic, a bounded-concurrency driver, `ferry serve` and peer servers as
 * child processes (started, waited for on a TCP port, stopped by PID), peak RSS from /proc, and a
 * plain-text table printer for "figure, peer, ratio, target" rows. Benchmarks print figures only:
 * nothing here asserts on a time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MiB = 1024 * 1024;

/**
 * redis-server options for the Redis behind Ferry+Redis figures: the append-only file fsynced every
 * second, as JuiceFS recommends for a production metadata Redis, so those figures include Redis's
 * own persistence work (the test suite's Redis keeps nothing on disk).
 */
export const PRODUCTION_REDIS_ARGS: readonly string[] = ['--appendonly', 'yes', '--appendfsync', 'everysec'];
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const ferryMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Seconds since `start` (a process.hrtime.bigint() value). */
export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Decimal megabytes per second. */
export function mbs(bytes: number, sec: number): number {
  return bytes / 1e6 / sec;
}

/** Runs `fn(i)` for i in [0, n) with `concurrency` callers; answers seconds. */
export async function drive(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, async () => {
    for (let i = next++; i < n; i = next++) await fn(i);
  }));
  return seconds(start);
}

/** The p-th percentile (0..100) of `xs` (nearest rank); NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))] ?? NaN;
}

/** Left column, then right-aligned columns; two spaces apart. */
export function table(title: string, rows: string[][]): void {
  process.stdout.write(`\n${title}\n`);
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  for (const r of rows) {
    const cells = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)));
    process.stdout.write(`  ${cells.join('  ').trimEnd()}\n`);
  }
}

/** A number with `digits` decimals, or "n/a" when not finite. */
export function num(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

/** "1.23x" (ours / peer), or "n/a". For "lower is better" figures pass them swapped. */
export function times(ours: number | undefined, peer: number | undefined): string {
  return ours === undefined || peer === undefined || !Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0
    ? 'n/a' : `${(ours / peer).toFixed(2)}x`;
}

/** "met" / "MISSED" for a target; empty when the figure is missing. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? 'met' : 'MISSED';
}

/** Peak resident set (VmHWM) of a process, bytes; undefined once it has gone. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Writes back dirty pages and drops the page cache (root only). On this VM, pages the guest has
 * not used lately cost about ten times more to fill (a bare 1 GiB write of fsynced 4 MiB files:
 * 1450 MB/s and 0.2 s system time into recycled pages, 350 MB/s and 2.4 s into new ones), so a
 * large write is measured from dropped caches on every server: what earlier runs left cached
 * would otherwise decide how fast the next server writes.
 */
export function dropPageCache(): void {
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/**
 * Marks `dir` so that ext4 places each directory made directly in it in a block group of its own
 * choosing (`chattr +T`, the Orlov allocator's top-directory hint), with the files below it. On an
 * ext4 without a journal, as on these machines, allocating an inode scans past the inodes of its
 * group freed in the last minutes (perf: recently_deleted under openat): without this, a server
 * whose files land in the group where the previous server just deleted thousands pays for it.
 * Name those directories with spreadName: Orlov starts its search at a hash of the new
 * directory's name, so a fixed name lands in the same group in every run, the one the previous
 * run has just freed. False where the file system has no such flag (the figures may then carry
 * that bias).
 */
export async function spreadDirectories(dir: string): Promise<boolean> {
  return (await run('chattr', ['+T', dir])).code === 0;
}

/**
 * `base` with a random suffix, for a directory made in a spreadDirectories directory: its block
 * group is then drawn anew in each run. Measured here with fixed names, three bench:webdav runs in
 * a row: Apache's small PUTs went from 0.28 to 0.44 ms of CPU each from the first run to the
 * second, 0.30 again after a 90 s pause.
 */
export const spreadName = (base: string): string => `${base}-${randomBytes(4).toString('hex')}`;

/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in these ticks per second. */
const CLOCK_TICKS = 100;

/**
 * A process's parent and CPU time so far from /proc/<pid>/stat, ms: `own` for all its threads
 * (user + system), `reaped` for children it has waited for; undefined once it has gone.
 */
export function procCpu(pid: number): { ppid: number; ownMs: number; reapedMs: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    const ms = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS;
    return { ppid: Number(f[1]), ownMs: ms(Number(f[11]) + Number(f[12])), reapedMs: ms(Number(f[13]) + Number(f[14])) };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, ms) used so far by process `pid` and its descendants, all threads, and
 * children they have reaped (Apache's workers, Ferry's thread pool): a per-request cost that the
 * machine's load moves less than a rate does. Clock ticks of 10 ms.
 */
export function treeCpuMs(pid: number): number {
  const stats = new Map<number, { ppid: number; ms: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const c = procCpu(Number(name));
    if (c !== undefined) stats.set(Number(name), { ppid: c.ppid, ms: c.ownMs + c.reapedMs });
  }
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, s] of stats) if (!tree.has(p) && tree.has(s.ppid)) { tree.add(p); grew = true; }
  }
  let ms = 0;
  for (const p of tree) ms += stats.get(p)?.ms ?? 0;
  return ms;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`the process that should listen on port ${port} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server started as a child process; `log()` is the tail of its output. */
export interface ChildServer {
  readonly pid: number;
  /** The last 20 kB of stdout and stderr. */
  log(): string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `cmd args`, keeps its output tail, and waits until it listens on `readyPort`. */
export async function startChild(cmd: string, args: string[], readyPort: number, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ChildServer> {
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  if (child.pid === undefined) throw new Error(`${cmd} did not start`);
  const pid = child.pid;
  let tail = '';
  const keep = (b: Buffer): void => { tail = (tail + b.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: ChildServer = {
    pid,
    log: () => tail,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => { if (child.exitCode === null) process.kill(pid, 'SIGKILL'); }, graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await waitForPort(readyPort, opts.timeoutMs ?? 60_000, () => child.exitCode === null && child.signalCode === null);
  } catch (err) {
    await server.stop(1000);
    throw new Error(`${cmd} did not come up: ${err instanceof Error ? err.message : String(err)}\n${tail}`, { cause: err });
  }
  return server;
}

/** How `ferry serve` is started: the volume and the listeners. */
export interface FerryOptions {
  /** Data directory (embedded default volume, and the config file). */
  dataDir: string;
  /** A metadata URL (e.g. redis://...) of a volume already formatted; default the embedded volume. */
  metaUrl?: string;
  /** NFS and MOUNT ports; NFS is off when absent. The export is `/` named `/export`, no_root_squash. */
  nfs?: { port: number; mountPort: number };
  /** WebDAV port on 127.0.0.1; WebDAV is off when absent. */
  webdavPort?: number;
}

/**
 * `node dist/src/cli/main.js serve` with loopback-only listeners and no admin listener. With
 * FERRY_BENCH_CPU_PROF=DIR in the environment, node writes a CPU profile of it into DIR on exit.
 */
export function startFerry(o: FerryOptions): Promise<ChildServer> {
  const prof = process.env['FERRY_BENCH_CPU_PROF'];
  mkdirSync(o.dataDir, { recursive: true });
  const config = join(o.dataDir, 'ferry-bench.yaml');
  writeFileSync(config, 'nfs:\n  exports:\n    - path: /\n      name: /export\n      squash: no_root_squash\n');
  const args = [...(prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`]), ferryMain, 'serve', '--config', config, '--data-dir', o.dataDir, '--no-admin'];
  if (o.metaUrl !== undefined) args.push('--meta', o.metaUrl);
  if (o.nfs === undefined) args.push('--no-nfs');
  else args.push('--nfs-port', String(o.nfs.port), '--mount-port', String(o.nfs.mountPort), '--host', '127.0.0.1', '--portmap', 'none');
  if (o.webdavPort === undefined) args.push('--no-webdav');
  else args.push('--webdav-listen', `127.0.0.1:${o.webdavPort}`);
  const readyPort = o.nfs?.mountPort ?? o.webdavPort;
  if (readyPort === undefined) throw new Error('startFerry: neither NFS nor WebDAV requested');
  return startChild(process.execPath, args, readyPort, { env: { ...process.env, FERRY_LOG_LEVEL: 'warn' } });
}

/** Formats a volume with metadata at `metaUrl` (e.g. redis://...) and a file store under `dir`/objects. */
export async function formatFileVolume(metaUrl: string, dir: string): Promise<void> {
  await runOk(process.execPath, [ferryMain, 'format', metaUrl, 'bench', '--storage', 'file', '--bucket', `${join(dir, 'objects')}/`, '--trash-days', '0']);
}

/**
 * Runs a command to completion; answers its exit code and output (never rejects on a non-zero
 * exit). `onLine` sees each line of stdout as it arrives.
 */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; echo?: boolean; onLine?: (line: string) => void } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let lineStart = 0;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (opts.echo === true) process.stderr.write(b);
      if (opts.onLine === undefined) return;
      for (let nl = stdout.indexOf('\n', lineStart); nl >= 0; nl = stdout.indexOf('\n', lineStart)) {
        opts.onLine(stdout.slice(lineStart, nl));
        lineStart = nl + 1;
      }
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); if (opts.echo === true) process.stderr.write(b); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a command that must succeed; answers its stdout. */
export async function runOk(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Elapsed seconds of a command that must succeed. */
export async function timedRun(cmd: string, args: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  await runOk(cmd, args);
  return seconds(start);
}

/** Progress on stderr (stdout carries only the tables). */
export function note(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/**
 * Per numeric field, the better of two runs of one peer: the lower for fields in `lowerBetter`
 * (latency, CPU, seconds), else the higher; a field only one run has is taken from it.
 */
export function betterRun<F extends object>(a: F, b: F, lowerBetter: ReadonlySet<string> = new Set()): F {
  const first = a as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...first };
  for (const [k, v] of Object.entries(b)) {
    const u = first[k];
    if (typeof v !== 'number') continue;
    out[k] = typeof u !== 'number' ? v : lowerBetter.has(k) ? Math.min(u, v) : Math.max(u, v);
  }
  return out as unknown as F;
}
