/**
 * NFS benchmark (`npm run bench:nfs [-- --quick] [-- --only host|guest]`): Ferry (embedded default
 * volume, and Redis metadata + file store) next to Debian's nfs-ganesha (FSAL VFS) exporting a
 * directory on the same disk, in one run. Host: libnfs `nfs-cp` sequential write and read of a
 * large file (the read also after dropping the page cache, and once more warm), bench/nfs-load.ts (1 MiB READ/WRITE, 16 in flight over 4 connections), the latency
 * of a 1 MiB READ served from cache, and each server process's CPU time per MiB moved (all its
 * threads; a shared, noisy machine disturbs it less than throughput; Redis's own CPU is not in it).
 * Before these, every server gets the same untimed warm-up (a file of WARM_BYTES written and read
 * twice): each Ferry run is a fresh Node process, which would otherwise pay V8's compilation of its
 * write and read paths inside the timed transfers (about a quarter more CPU per MiB written in
 * its first GiB); the figures are those of a server that has been running, as an appliance is.
 * Guest (nfs-vm, kernel client, emulated CPU): 10,000 files of 4 KiB created, `ls -l`, deleted,
 * and fio 4 KiB random reads (bench/nfs-guest.sh); the create and delete phases are also broken
 * down call by call from the client's mountstats (calls per file, round trip of each, and the
 * client's own time), which shows what of a gap is the server's answer time, and by the server's
 * CPU time per file. Every server is measured twice, in the order
 * ganesha, Ferry, Ferry+Redis, then again in that order (each Ferry run a fresh process and
 * volume), and each ratio is between the better runs of the two: a shared machine's load drifts
 * during the many minutes of a run, and one run of a server in a loaded minute must not decide
 * its figure while the other has two chances (the order ganesha first and last, Ferry once, did: a
 * Ferry read at 310 MB/s in a minute when ganesha's second run also fell to 368). Prints figures and
 * ratios to ganesha; asserts nothing. Ganesha needs rpcbind, so the whole run re-executes
 * itself inside ../shared/tools/nfs-vm/peers/with-ganesha.sh (private network namespace).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import { cachedReadLatency, randomReads, runLoad } from './nfs-load.js';
import {
  MiB, PRODUCTION_REDIS_ARGS, betterRun, dropPageCache, formatFileVolume, spreadDirectories, spreadName, mbs, note, num, peakRss, procCpu, repoRoot, run, runOk, startFerry, table, timedRun, times, verdict, type ChildServer,
} from './lib.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'host' && ONLY !== 'guest') throw new Error('--only takes host or guest');
const HOST = ONLY !== 'guest';
const GUEST = ONLY !== 'host';

const SEQ_BYTES = (QUICK ? 128 : 1024) * MiB;
const WARM_BYTES = (QUICK ? 32 : 256) * MiB;
const LOAD_BYTES = (QUICK ? 128 : 1024) * MiB;
const SMALL_FILES = QUICK ? 1000 : 10_000;
const FIO_MB = QUICK ? 64 : 256;
const FIO_SEC = QUICK ? 8 : 20;
const LATENCY_READS = QUICK ? 50 : 200;
/** Random 4 KiB READs of a cached file (server CPU per READ; the client here is the same machine's Node process). */
const RANDOM_FILE_BYTES = 64 * MiB;
const RANDOM_READS = QUICK ? 20_000 : 100_000;
const LATENCY_TARGET_MS = 2;

/** ../shared/tools/nfs-vm beside the repository (or beside its worktree directory), or NFSVM. */
const nfsVm = process.env['NFSVM'] ?? [join(repoRoot, '..'), join(repoRoot, '..', '..')]
  .map((d) => join(d, 'shared', 'tools', 'nfs-vm', 'nfs-vm')).find((p) => existsSync(p)) ?? join(repoRoot, '..', 'shared', 'tools', 'nfs-vm', 'nfs-vm');
const withGanesha = join(nfsVm, '..', 'peers', 'with-ganesha.sh');
const vmCache = process.env['NFSVM_CACHE'] ?? join(homedir(), '.cache', 'ferry-nfs-vm');
const guestScript = join(repoRoot, 'bench', 'nfs-guest.sh');
const GANESHA_NFS = 20490;
const GANESHA_MOUNT = 20491;

/** One server under test and its figures. */
interface Target {
  name: string;
  /** The server process, for its CPU time per phase. */
  pid?: number | undefined;
  nfsPort: number;
  mountPort: number;
  exportPath: string;
  host?: HostFigures;
  guest?: GuestFigures;
  rss?: number | undefined;
}

interface HostFigures {
  seqWriteMBs: number;
  /** nfs-cp read right after the write (what the page cache holds then is luck: see hostRun). */
  seqReadMBs: number;
  /** nfs-cp read after the page cache was dropped: every server reads from the disk. */
  seqReadColdMBs: number;
  /** nfs-cp read of a file read just before: every server reads cached pages. */
  seqReadWarmMBs: number;
  loadWriteMBs: number;
  loadReadMBs: number;
  loadIo: number;
  latP50: number;
  latP99: number;
  /** Server CPU time (user + system, every thread) per MiB moved, ms; undefined without a pid. */
  cpuSeqWrite: number | undefined;
  cpuSeqRead: number | undefined;
  cpuLoad: number | undefined;
  /** Random 4 KiB READs of a cached file per second, and the server's CPU per READ (microseconds). */
  randomIops: number;
  cpuRandomUs: number | undefined;
}

/** CPU time a process has used so far (all threads, user + system), ms; undefined when gone. */
const cpuMs = (pid: number | undefined): number | undefined => (pid === undefined ? undefined : procCpu(pid)?.ownMs);

/** Runs `fn` and answers its result with the CPU ms per MiB that `pid` spent meanwhile moving `bytes`. */
async function withCpu<T>(pid: number | undefined, bytes: number, fn: () => Promise<T>): Promise<[T, number | undefined]> {
  const before = cpuMs(pid);
  const r = await fn();
  const after = cpuMs(pid);
  return [r, before === undefined || after === undefined ? undefined : (after - before) / (bytes / MiB)];
}

/** The ganesha.nfsd of our namespace (with-ganesha.sh mounts its own /proc). */
function ganeshaPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'ganesha.nfsd') return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

interface GuestFigures {
  createPerSec: number;
  lsPerSec: number;
  deletePerSec: number;
  fioIops: number;
  /** The small-file phases as the guest client timed its calls (see phaseCalls). */
  calls: PhaseCalls;
}

/** Phases of bench/nfs-guest.sh whose calls are broken down, each with the script's OPSTAT label. */
const CALL_PHASES = [['create', 'start'], ['delete', 'ls']] as const;
type CallPhase = (typeof CALL_PHASES)[number][0];

/**
 * Per phase, per procedure: calls per file and the mean round trip of one call (ms), as the
 * client's mountstats counted and timed them (from sending the request to its reply: the network
 * and the server); the rest of a file's time, the client's own (guest CPU, emulated); and the
 * server process's CPU time per file (all its threads; not Redis's).
 */
type PhaseCalls = Record<CallPhase, { procs: Map<string, { perFile: number; rttMs: number }>; clientMsPerFile: number; serverCpuMsPerFile: number | undefined }>;

/** The script's cumulative per-procedure counters at each OPSTAT label: label -> procedure -> counters. */
type OpStats = Map<string, Map<string, { calls: number; rttMs: number }>>;

/**
 * A line `OPSTAT <label> <proc> <calls> <rtt ms> <execute ms>` of the script into `into`; answers
 * its label (undefined for any other line).
 */
function addOpStat(line: string, into: OpStats): string | undefined {
  const m = /^OPSTAT (\S+) (\S+) (\d+) (\d+) (\d+)\s*$/.exec(line);
  if (m === null) return undefined;
  const label = m[1] ?? '';
  let procs = into.get(label);
  if (procs === undefined) into.set(label, (procs = new Map()));
  procs.set(m[2] ?? '', { calls: Number(m[3]), rttMs: Number(m[4]) });
  return label;
}

/** PhaseCalls from the script's cumulative counters: each phase is its label's minus those of the label before it. */
function phaseCalls(at: OpStats, seconds: Record<CallPhase, number>, cpuAt: ReadonlyMap<string, number | undefined>): PhaseCalls {
  const out = {} as PhaseCalls;
  for (const [phase, before] of CALL_PHASES) {
    const end = at.get(phase);
    const start = at.get(before);
    if (end === undefined || start === undefined) throw new Error(`guest printed no OPSTAT lines for ${before} and ${phase}`);
    const procs = new Map<string, { perFile: number; rttMs: number }>();
    let rttMsPerFile = 0;
    for (const [proc, e] of end) {
      const calls = e.calls - (start.get(proc)?.calls ?? 0);
      const rttMs = e.rttMs - (start.get(proc)?.rttMs ?? 0);
      if (calls <= 0) continue;
      procs.set(proc, { perFile: calls / SMALL_FILES, rttMs: rttMs / calls });
      rttMsPerFile += rttMs / SMALL_FILES;
    }
    const cpuStart = cpuAt.get(before);
    const cpuEnd = cpuAt.get(phase);
    out[phase] = {
      procs,
      clientMsPerFile: seconds[phase] * 1000 / SMALL_FILES - rttMsPerFile,
      serverCpuMsPerFile: cpuStart === undefined || cpuEnd === undefined ? undefined : (cpuEnd - cpuStart) / SMALL_FILES,
    };
  }
  return out;
}

function nfsUrl(t: Target, file: string): string {
  return `nfs://127.0.0.1${t.exportPath}/${file}?version=3&nfsport=${t.nfsPort}&mountport=${t.mountPort}`;
}

/** Names of a target's files on its export: a peer measured twice must not meet its first run's files. */
const fileTag = (t: Target): string => t.name.replace(/[^A-Za-z0-9]+/g, '-');
const seqName = (t: Target): string => `seq-${fileTag(t)}.bin`;
const warmName = (t: Target): string => `warm-${fileTag(t)}.bin`;

/** The host runs' local files in /dev/shm: the large source, nfs-cp's copies back, the warm-up source. */
interface LocalFiles {
  src: string;
  back: string;
  warm: string;
}

async function hostRun(t: Target, { src, back, warm: warmSrc }: LocalFiles): Promise<HostFigures> {
  const seq = seqName(t);
  note(`${t.name}: warm-up, ${WARM_BYTES / MiB} MiB written and read twice (untimed)`);
  await runOk('nfs-cp', [warmSrc, nfsUrl(t, warmName(t))]);
  for (let i = 0; i < 2; i++) {
    await runOk('nfs-cp', [nfsUrl(t, warmName(t)), back]);
    rmSync(back, { force: true });
  }
  // The write and the read after it need fresh page cache (the file, and nfs-cp's copy in
  // /dev/shm): every server starts from dropped caches (see dropPageCache).
  dropPageCache();
  note(`${t.name}: nfs-cp write ${SEQ_BYTES / MiB} MiB`);
  const [w, cpuSeqWrite] = await withCpu(t.pid, SEQ_BYTES, () => timedRun('nfs-cp', [src, nfsUrl(t, seq)]));
  note(`${t.name}: nfs-cp read`);
  const [r, cpuSeqRead] = await withCpu(t.pid, SEQ_BYTES, () => timedRun('nfs-cp', [nfsUrl(t, seq), back]));
  // This host pages out cold page cache on its own (DAMON), so how much of a just-written file is
  // still cached varies: the same read again from a known state, cold (caches dropped) and warm.
  rmSync(back, { force: true });
  note(`${t.name}: nfs-cp read, caches dropped`);
  dropPageCache();
  const cold = await timedRun('nfs-cp', [nfsUrl(t, seq), back]);
  rmSync(back, { force: true });
  note(`${t.name}: nfs-cp read, warm`);
  const warm = await timedRun('nfs-cp', [nfsUrl(t, seq), back]);
  rmSync(back, { force: true });
  note(`${t.name}: load generator, ${LOAD_BYTES / MiB} MiB`);
  const [load, cpuLoad] = await withCpu(t.pid, 2 * LOAD_BYTES, () => runLoad({
    nfsPort: t.nfsPort, mountPort: t.mountPort, exportPath: t.exportPath, bytes: LOAD_BYTES, connections: 4, inFlight: 16, ioBytes: MiB, name: `load-${fileTag(t)}`,
  }));
  note(`${t.name}: cached 1 MiB READ latency`);
  const lat = await cachedReadLatency({
    nfsPort: t.nfsPort, mountPort: t.mountPort, exportPath: t.exportPath, ioBytes: load.ioBytes, name: `latency-${fileTag(t)}`, spanBytes: 16 * MiB, reads: LATENCY_READS,
  });
  note(`${t.name}: ${RANDOM_READS} random 4 KiB READs of a cached ${RANDOM_FILE_BYTES / MiB} MiB file`);
  const [randomIops, cpuRandom] = await withCpu(t.pid, RANDOM_READS * MiB, () => randomReads({
    nfsPort: t.nfsPort, mountPort: t.mountPort, exportPath: t.exportPath, ioBytes: 4096, name: `random-${fileTag(t)}`, connections: 4, inFlight: 16, fileBytes: RANDOM_FILE_BYTES, reads: RANDOM_READS,
  }));
  return {
    randomIops, cpuRandomUs: cpuRandom === undefined ? undefined : cpuRandom * 1000,
    seqWriteMBs: mbs(SEQ_BYTES, w), seqReadMBs: mbs(SEQ_BYTES, r), seqReadColdMBs: mbs(SEQ_BYTES, cold), seqReadWarmMBs: mbs(SEQ_BYTES, warm), loadWriteMBs: load.writeMBs, loadReadMBs: load.readMBs,
    loadIo: load.ioBytes, latP50: lat.p50, latP99: lat.p99, cpuSeqWrite, cpuSeqRead, cpuLoad,
  };
}

async function guestRun(t: Target): Promise<GuestFigures> {
  note(`${t.name}: guest run (${SMALL_FILES} small files, fio ${FIO_MB} MiB ${FIO_SEC} s; emulated CPU, minutes)`);
  // the client's counters, and the server's CPU time when the guest reports each phase's end (its first OPSTAT line)
  const opStats: OpStats = new Map();
  const cpuAt = new Map<string, number | undefined>();
  const res = await run(nfsVm, [
    'run', '--timeout', '3000', '--nfs-port', String(t.nfsPort), '--mount-port', String(t.mountPort), '--export', t.exportPath,
    '--env', `N=${SMALL_FILES}`, '--env', `FIO_MB=${FIO_MB}`, '--env', `FIO_SEC=${FIO_SEC}`, '--', guestScript,
  ], {
    env: { ...process.env, NFSVM_CACHE: vmCache },
    onLine: (line) => {
      const label = addOpStat(line, opStats);
      if (label !== undefined && !cpuAt.has(label)) cpuAt.set(label, cpuMs(t.pid));
    },
  });
  const got = new Map<string, number>();
  for (const m of res.stdout.matchAll(/^RESULT (\S+) (\S+)\s*$/gm)) got.set(m[1] ?? '', Number(m[2]));
  const need = (k: string): number => {
    const v = got.get(k);
    if (res.code !== 0 || v === undefined || !Number.isFinite(v)) throw new Error(`guest run against ${t.name} failed (exit ${res.code}, no ${k})\n${res.stdout}\n${res.stderr}`);
    return v;
  };
  return {
    createPerSec: SMALL_FILES / need('create_s'), lsPerSec: SMALL_FILES / need('ls_s'), deletePerSec: SMALL_FILES / need('delete_s'),
    fioIops: need('fio_randread_iops'), calls: phaseCalls(opStats, { create: need('create_s'), delete: need('delete_s') }, cpuAt),
  };
}

async function measure(t: Target, files: LocalFiles, ferry?: ChildServer): Promise<void> {
  if (HOST) t.host = await hostRun(t, files);
  if (GUEST) t.guest = await guestRun(t);
  if (ferry !== undefined) t.rss = peakRss(ferry.pid);
}

async function withFerry(name: string, dir: string, metaUrl: string | undefined, fn: (t: Target, f: ChildServer) => Promise<void>): Promise<Target> {
  const t: Target = { name, nfsPort: 30490, mountPort: 30491, exportPath: '/export' };
  note(`${name}: starting ferry serve`);
  const ferry = await startFerry({ dataDir: dir, nfs: { port: t.nfsPort, mountPort: t.mountPort }, ...(metaUrl === undefined ? {} : { metaUrl }) });
  t.pid = ferry.pid;
  try {
    await fn(t, ferry);
  } catch (err) {
    process.stderr.write(`--- ferry log tail ---\n${ferry.log()}\n`);
    throw err;
  } finally {
    await ferry.stop();
  }
  return t;
}

/** Lower is better for these figures (latency, CPU); higher for all others. */
const LOWER_BETTER = new Set<string>(['latP50', 'latP99', 'cpuSeqWrite', 'cpuSeqRead', 'cpuLoad', 'cpuRandomUs']);

/** Per figure, the better of two runs of one server. */
function bestOf(a: Target, b: Target): Target {
  const pick = <F extends object>(x: F | undefined, y: F | undefined): F | undefined =>
    (x === undefined || y === undefined ? x ?? y : betterRun(x, y, LOWER_BETTER));
  const best: Target = { ...a, name: `${a.name} (best of 2)` };
  const host = pick(a.host, b.host);
  const guest = pick(a.guest, b.guest);
  if (guest !== undefined && a.guest !== undefined && b.guest !== undefined) {
    // a phase's calls come from the run whose phase was faster: they explain that figure
    guest.calls = {
      create: (a.guest.createPerSec >= b.guest.createPerSec ? a.guest : b.guest).calls.create,
      delete: (a.guest.deletePerSec >= b.guest.deletePerSec ? a.guest : b.guest).calls.delete,
    };
  }
  if (host !== undefined) best.host = host;
  if (guest !== undefined) best.guest = guest;
  const rss = a.rss === undefined || b.rss === undefined ? a.rss ?? b.rss : Math.max(a.rss, b.rss);
  if (rss !== undefined) best.rss = rss;
  return best;
}

/** `ours`: each Ferry target's best of two runs, with `ourRuns` the two runs of each, in that order. */
function print(peer: Target, ours: Target[], peerRuns: Target[], ourRuns: Target[][]): void {
  const cols = ['figure', ...peerRuns.map((t) => t.name), peer.name, ...ours.flatMap((t, i) => [...(ourRuns[i] ?? []).map((r) => r.name), t.name, 'ratio'])];
  const row = (label: string, pick: (t: Target) => number | undefined, digits = 1, lowerIsBetter = false): string[] => [
    label, ...peerRuns.map((t) => num(pick(t), digits)), num(pick(peer), digits),
    ...ours.flatMap((t, i) => [...(ourRuns[i] ?? []).map((r) => num(pick(r), digits)), num(pick(t), digits), lowerIsBetter ? times(pick(peer), pick(t)) : times(pick(t), pick(peer))]),
  ];
  if (HOST) {
    table(`host (libnfs nfs-cp and bench/nfs-load.ts; ${SEQ_BYTES / MiB} MiB sequential, load ${LOAD_BYTES / MiB} MiB in ${(ours[0]?.host?.loadIo ?? MiB) / 1024} KiB requests, 16 in flight over 4 connections; ratio > 1: Ferry better)`, [
      cols,
      row('nfs-cp sequential write, MB/s', (t) => t.host?.seqWriteMBs),
      row('nfs-cp sequential read, MB/s', (t) => t.host?.seqReadMBs),
      row('  same, page cache dropped first, MB/s', (t) => t.host?.seqReadColdMBs),
      row('  same, file read just before, MB/s', (t) => t.host?.seqReadWarmMBs),
      row('load generator WRITE+COMMIT, MB/s', (t) => t.host?.loadWriteMBs),
      row('load generator READ, MB/s', (t) => t.host?.loadReadMBs),
      row('cached 1 MiB READ p50, ms', (t) => t.host?.latP50, 2, true),
      row('cached 1 MiB READ p99, ms', (t) => t.host?.latP99, 2, true),
      row('server CPU per MiB, nfs-cp write, ms', (t) => t.host?.cpuSeqWrite, 2, true),
      row('server CPU per MiB, nfs-cp read, ms', (t) => t.host?.cpuSeqRead, 2, true),
      row('server CPU per MiB, load generator, ms', (t) => t.host?.cpuLoad, 2, true),
      row(`random 4 KiB READ of a cached ${RANDOM_FILE_BYTES / MiB} MiB file, 16 in flight, READs/s`, (t) => t.host?.randomIops, 0),
      row('  server CPU per READ, us', (t) => t.host?.cpuRandomUs, 1, true),
    ]);
  }
  if (GUEST) {
    table(`guest (Linux 6.1 kernel client in nfs-vm, emulated CPU; ${SMALL_FILES} files of 4 KiB; fio ${FIO_MB} MiB file, 4 KiB randread, libaio 16 deep, O_DIRECT, ${FIO_SEC} s; ratio > 1: Ferry better)`, [
      cols,
      row('create, files/s', (t) => t.guest?.createPerSec),
      row('ls -l (caches dropped), files/s', (t) => t.guest?.lsPerSec),
      row('delete (rm -rf), files/s', (t) => t.guest?.deletePerSec),
      row('fio 4 KiB random read, IOPS', (t) => t.guest?.fioIops, 0),
    ]);
    const callRows: string[][] = [cols];
    const all = [peer, ...peerRuns, ...ours, ...ourRuns.flat()];
    for (const [phase] of CALL_PHASES) {
      const procs = [...new Set(all.flatMap((t) => [...(t.guest?.calls[phase].procs ?? new Map<string, { perFile: number }>())]
        .filter(([, c]) => c.perFile >= 0.05).map(([p]) => p)))].sort();
      for (const proc of procs) {
        callRows.push(row(`${phase}: ${proc} calls per file`, (t) => t.guest?.calls[phase].procs.get(proc)?.perFile ?? 0, 2, true));
        callRows.push(row(`${phase}: ${proc} round trip, ms`, (t) => t.guest?.calls[phase].procs.get(proc)?.rttMs, 2, true));
      }
      callRows.push(row(`${phase}: client's own time per file, ms`, (t) => t.guest?.calls[phase].clientMsPerFile, 2, true));
      callRows.push(row(`${phase}: server CPU per file, ms`, (t) => t.guest?.calls[phase].serverCpuMsPerFile, 2, true));
    }
    table('guest small-file phases, call by call (the guest client\'s mountstats: a round trip runs from the request sent to the reply received, network and server; the rest of a file\'s time is the client\'s own, on the emulated CPU; server CPU: the server process, all threads, not Redis; the runs whose phase was faster; ratio > 1: Ferry better)', callRows);
  }
  const targets: string[][] = [['target', ...ours.map((t) => t.name)]];
  if (HOST) {
    targets.push(['sequential write >= 1.0x ganesha', ...ours.map((t) => verdict(t.host === undefined || peer.host === undefined ? undefined : t.host.seqWriteMBs >= peer.host.seqWriteMBs))]);
    targets.push(['sequential read >= 1.0x ganesha', ...ours.map((t) => verdict(t.host === undefined || peer.host === undefined ? undefined : t.host.seqReadMBs >= peer.host.seqReadMBs))]);
    targets.push(['  same, page cache dropped first', ...ours.map((t) => verdict(t.host === undefined || peer.host === undefined ? undefined : t.host.seqReadColdMBs >= peer.host.seqReadColdMBs))]);
    targets.push(['  same, file read just before', ...ours.map((t) => verdict(t.host === undefined || peer.host === undefined ? undefined : t.host.seqReadWarmMBs >= peer.host.seqReadWarmMBs))]);
    targets.push([`cached 1 MiB READ p50 < ${LATENCY_TARGET_MS} ms`, ...ours.map((t) => verdict(t.host === undefined ? undefined : t.host.latP50 < LATENCY_TARGET_MS))]);
  }
  if (GUEST) {
    const small = (t: Target): boolean | undefined => t.guest === undefined || peer.guest === undefined ? undefined
      : t.guest.createPerSec >= peer.guest.createPerSec && t.guest.lsPerSec >= peer.guest.lsPerSec && t.guest.deletePerSec >= peer.guest.deletePerSec;
    targets.push(['small files (create, ls, delete) >= 1.0x ganesha', ...ours.map((t) => verdict(small(t)))]);
  }
  targets.push(['ferry peak RSS (VmHWM), MiB', ...ours.map((t) => num(t.rss === undefined ? undefined : t.rss / MiB, 0))]);
  table('targets', targets);
}

async function inside(): Promise<void> {
  const exportDir = process.env['EXPORT_DIR'];
  if (exportDir === undefined) throw new Error('EXPORT_DIR not set: run through with-ganesha.sh');
  process.stdout.write(`ferry NFS benchmark${QUICK ? ' (--quick)' : ''}${ONLY === undefined ? '' : ` (--only ${ONLY})`}: ${new Date().toISOString()}, ${process.env['FERRY_BENCH_HOSTINFO'] ?? ''}\n`);
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-nfs-'));
  // each Ferry's data dir in an ext4 block group of its own: none creates inodes past another's just deleted
  if (!await spreadDirectories(work)) note('chattr +T failed: the servers\' directories may share an ext4 block group');
  const shm = mkdtempSync(join('/dev/shm', 'ferry-bench-nfs-'));
  const files: LocalFiles = { src: join(shm, 'src.bin'), back: join(shm, 'back.bin'), warm: join(shm, 'warm.bin') };
  let redis: RedisServer | undefined;
  try {
    if (HOST) spawnSync('sh', ['-c', `head -c ${SEQ_BYTES} /dev/urandom > '${files.src}' && head -c ${WARM_BYTES} '${files.src}' > '${files.warm}'`]);
    const ganesha: Target = {
      name: 'ganesha', pid: ganeshaPid(), nfsPort: Number(process.env['NFS_PORT'] ?? GANESHA_NFS), mountPort: Number(process.env['MNT_PORT'] ?? GANESHA_MOUNT), exportPath: exportDir,
    };
    await measure(ganesha, files);
    // frees its page cache for the next server
    for (const f of [seqName(ganesha), warmName(ganesha)]) rmSync(join(exportDir, f), { force: true });

    redis = await startRedis({ databases: 3, args: PRODUCTION_REDIS_ARGS });
    const server = redis;
    // a fresh `ferry serve` and volume per run; its files go with it
    const ferryRuns = async (suffix: string, db: number): Promise<[Target, Target]> => {
      const dir = join(work, spreadName(`embedded${db}`));
      const embedded = await withFerry(`ferry${suffix}`, dir, undefined, (t, f) => measure(t, files, f));
      rmSync(dir, { recursive: true, force: true });
      const redisDir = join(work, spreadName(`redis${db}`));
      const url = server.url(db);
      await formatFileVolume(url, redisDir);
      const withRedis = await withFerry(`ferry+redis${suffix}`, redisDir, url, (t, f) => measure(t, files, f));
      rmSync(redisDir, { recursive: true, force: true });
      return [embedded, withRedis];
    };
    const [embedded, withRedis] = await ferryRuns('', 1);

    const again: Target = { ...ganesha, name: 'ganesha again' };
    delete again.host;
    delete again.guest;
    await measure(again, files);
    for (const f of [seqName(again), warmName(again)]) rmSync(join(exportDir, f), { force: true });
    const [embedded2, withRedis2] = await ferryRuns(' again', 2);
    print(bestOf(ganesha, again), [bestOf(embedded, embedded2), bestOf(withRedis, withRedis2)], [ganesha, again], [[embedded, embedded2], [withRedis, withRedis2]]);
  } finally {
    await redis?.stop();
    rmSync(shm, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

/** Outside the namespace: check the tools, then run this script again under with-ganesha.sh. */
async function outside(): Promise<void> {
  for (const [what, ok] of [
    ['nfs-cp (apt-get install libnfs-utils)', HOST ? spawnSync('sh', ['-c', 'command -v nfs-cp']).status === 0 : true],
    ['ganesha.nfsd (apt-get install nfs-ganesha nfs-ganesha-vfs)', spawnSync('sh', ['-c', 'command -v ganesha.nfsd']).status === 0],
    ['fio (apt-get install fio)', GUEST ? spawnSync('sh', ['-c', 'command -v fio']).status === 0 : true],
    [`with-ganesha.sh at ${withGanesha} (set NFSVM)`, existsSync(withGanesha)],
    ['root (ganesha FSAL VFS and nfs-vm need it)', process.getuid?.() === 0],
  ] as const) {
    if (!ok) throw new Error(`bench:nfs needs ${what}`);
  }
  if (GUEST && (!existsSync(join(vmCache, 'vmlinuz')) || !existsSync(join(vmCache, 'initramfs.cpio.gz')))) {
    note(`nfs-vm setup into ${vmCache}`);
    await runOk(nfsVm, ['setup'], { env: { ...process.env, NFSVM_CACHE: vmCache } });
  }
  const exportDir = mkdtempSync(join(tmpdir(), 'ferry-bench-ganesha-'));
  // the guest's directory of small files in its own ext4 block group, as each Ferry's data dir (see inside)
  if (!await spreadDirectories(exportDir)) note('chattr +T failed: the servers\' directories may share an ext4 block group');
  const cpu = spawnSync('sh', ['-c', "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], { encoding: 'utf8' }).stdout.trim().replace(/\s*\n\s*/, ' cores,');
  try {
    const res = spawnSync(withGanesha, ['--export', exportDir, '--nfs-port', String(GANESHA_NFS), '--mount-port', String(GANESHA_MOUNT), '--',
      process.execPath, fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit', env: { ...process.env, FERRY_BENCH_HOSTINFO: cpu } });
    process.exitCode = res.status ?? 1;
  } finally {
    rmSync(exportDir, { recursive: true, force: true });
  }
}

(process.env['WITH_GANESHA_INNER'] === '1' ? inside() : outside()).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
