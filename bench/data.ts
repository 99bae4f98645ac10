/**
 * Data path benchmark (`npm run bench:data -- [--size 4G]`): one large file (default 4 GiB, the
 * issue's figure) written sequentially through the Vfs (1 MiB writes, then fsync) and read back
 * sequentially, cold (a fresh Vfs and cache over the same volume) and cached (again, once every
 * block is in the disk cache; a file store on the cache dir's file system gets no disk cache, so
 * its second read comes from the store again), next to ceilings measured in the same run: fio (dd
 * when fio is missing) on the same disk for the file store, raw 4 MiB PUT/GET through
 * S3ObjectStore to the same s3rver at the concurrency the Vfs was seen to use. Each store's vfs
 * phase runs in its own child process, whose peak RSS during the writes (and the reads) is
 * sampled; the load average is printed, since the machine may be shared. Numbers only, no
 * assertions beyond a stamp check of the bytes read back; stops its s3rver and removes its temp
 * dirs. FERRY_BENCH_CPU_PROF=DIR writes CPU profiles of the vfs children into DIR.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { BaseMeta } from '../src/meta/base.js';
import { MemoryEngine } from '../src/meta/memory/engine.js';
import { type Credentials, type Format, MODE_READ, MODE_WRITE, ROOT_INODE } from '../src/meta/types.js';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../src/storage/object-store.js';
import { configureLogger } from '../src/observability/logger.js';
import { createObjectStore } from '../src/storage/open.js';
import { S3ObjectStore } from '../src/storage/s3.js';
import { openVolume, storageSetting, type OpenVolumeOptions } from '../src/vfs/open.js';
import { createBucket, startS3rver, type S3rverServer } from '../test/helpers/s3rver.js';
import { removeTmpDirs, tmpDir } from '../test/helpers/tmp.js';
import { drive, mbs, seconds, table } from './lib.js';

const MiB = 1024 * 1024;
const CTX: Credentials = { uid: 0, gid: 0, gids: [] };
/** `--size 512M` / `--size 4G` / bytes: the file size, rounded down to whole 4 MiB, at least 16 MiB. */
function sizeArg(argv: string[]): number {
  const at = argv.indexOf('--size');
  const text = at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith('--size='))?.slice('--size='.length);
  if (text === undefined) return 4 * 1024 * MiB;
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text);
  if (m?.[1] === undefined) throw new Error(`bad --size ${text}: use e.g. 512M or 4G`);
  const unit = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[(m[2] ?? '').toUpperCase()] ?? 1;
  return Math.max(16 * MiB, Math.floor(Number(m[1]) * unit / (4 * MiB)) * 4 * MiB);
}
const BYTES = sizeArg(process.argv.slice(2));
const WRITE_BYTES = MiB;
const OBJECT_BYTES = 4 * MiB;
const RSS_TARGET = 600 * MiB;
const CACHED_READ_TARGET = 1e9;

/** A store decorator that records the most puts and gets in flight at once. */
class InflightCounter implements ObjectStore {
  puts = 0;
  gets = 0;
  maxPuts = 0;
  maxGets = 0;
  readonly description: string;
  constructor(private readonly inner: ObjectStore) {
    this.description = inner.description;
  }
  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    this.maxGets = Math.max(this.maxGets, ++this.gets);
    try {
      return await this.inner.get(key, range, signal);
    } finally {
      this.gets--;
    }
  }
  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    this.maxPuts = Math.max(this.maxPuts, ++this.puts);
    try {
      await this.inner.put(key, body, signal);
    } finally {
      this.puts--;
    }
  }
  delete(key: string, signal?: AbortSignal): Promise<void> { return this.inner.delete(key, signal); }
  head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> { return this.inner.head(key, signal); }
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo> { return this.inner.list(prefix, opts); }
  close(): Promise<void> { return this.inner.close(); }
}

interface VfsFigures {
  writeMBs: number;
  coldReadMBs: number;
  cachedReadMBs: number;
  peakRss: number;
  peakReadRss: number;
  maxPuts: number;
  maxGets: number;
  /** Blocks the cold read left in the disk cache, of the file's blocks. */
  diskBlocksAfterCold: number;
  /** Unmeasured reads it took to get every block into the disk cache. */
  warmPasses: number;
  /** Blocks in the disk cache when the cached read started. */
  diskBlocksBeforeCached: number;
}

type StoreSetting = Pick<Format, 'Storage' | 'Bucket' | 'AccessKey' | 'SecretKey'>;

const CHILD_FLAG = '--child-vfs';

/**
 * vfsRun in a fresh child process (this script with CHILD_FLAG), so that its peak RSS is its own
 * and not what an earlier phase left in this process. The setting goes through the environment.
 */
async function vfsRunInChild(setting: StoreSetting): Promise<VfsFigures> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find the benchmark script to run a child');
  const prof = process.env['FERRY_BENCH_CPU_PROF'];
  const child = spawn(process.execPath, [...(prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`]), script, CHILD_FLAG, '--size', String(BYTES)], {
    env: { ...process.env, FERRY_BENCH_SETTING: JSON.stringify(setting) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`benchmark child exited with ${code}: ${out}`);
  return JSON.parse(last) as VfsFigures;
}

/** The child's side: one vfsRun of the setting in FERRY_BENCH_SETTING, figures as one JSON line. */
async function childMain(): Promise<void> {
  configureLogger({ level: 'warn' });
  try {
    const figures = await vfsRun(JSON.parse(process.env['FERRY_BENCH_SETTING'] ?? '{}') as StoreSetting);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    removeTmpDirs();
  }
}

/** Writes the file through a fresh volume, then reads it twice through another fresh volume. */
async function vfsRun(setting: StoreSetting): Promise<VfsFigures> {
  const meta = new BaseMeta(new MemoryEngine());
  const format = await meta.format({ Name: 'bench', UUID: '', ...setting, BlockSize: OBJECT_BYTES / 1024, Compression: 'none', TrashDays: 0, EnableACL: false });
  const opts = (store: ObjectStore): OpenVolumeOptions => ({ store, releaseIntervalMs: 0, compaction: false });
  const template = randomBytes(WRITE_BYTES);

  const wStore = new InflightCounter(createObjectStore(storageSetting(format)));
  const writer = await openVolume({ meta }, opts(wStore));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  let writeSec: number;
  const { ino } = await writer.vfs.create(CTX, ROOT_INODE, Buffer.from('big'), 0o644, 0o022);
  try {
    const { handle } = await writer.vfs.open(CTX, ino, MODE_WRITE);
    const start = process.hrtime.bigint();
    for (let off = 0; off < BYTES; off += WRITE_BYTES) {
      const data = Buffer.from(template);
      data.writeUInt32LE(off / WRITE_BYTES, 0);
      await writer.vfs.write(CTX, handle, off, data);
    }
    await writer.vfs.fsync(CTX, handle);
    writeSec = seconds(start);
    await writer.vfs.release(CTX, handle);
  } finally {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await writer.close();
  }
  settleDisk();

  const rStore = new InflightCounter(createObjectStore(storageSetting(format)));
  const reader = await openVolume({ meta }, { ...opts(rStore), cacheDirs: [tmpDir('ferry-bench-cache-')] });
  let peakReadRss = process.memoryUsage().rss;
  const readSampler = setInterval(() => { peakReadRss = Math.max(peakReadRss, process.memoryUsage().rss); }, 100);
  try {
    // one reused buffer, as the protocols read (vfs.readInto into their pooled reply buffers)
    const got = Buffer.allocUnsafe(WRITE_BYTES);
    const readOnce = async (): Promise<number> => {
      const { handle } = await reader.vfs.open(CTX, ino, MODE_READ);
      const start = process.hrtime.bigint();
      for (let off = 0; off < BYTES; off += WRITE_BYTES) {
        const n = await reader.vfs.readInto(CTX, handle, off, got);
        if (n !== WRITE_BYTES || got.readUInt32LE(0) !== off / WRITE_BYTES || got[WRITE_BYTES - 1] !== template[WRITE_BYTES - 1]) {
          throw new Error(`read back wrong bytes at offset ${off}`);
        }
      }
      const sec = seconds(start);
      await reader.vfs.release(CTX, handle);
      return sec;
    };
    const coldSec = await readOnce();
    await reader.cache.settle();
    const diskBlocksAfterCold = reader.cache.stats().diskBlocks;
    // "Cached" means every block is in the disk cache: a cold read faster than the cache disk
    // drops blocks (as JuiceFS does), so unmeasured passes fill it first (at most eight).
    let warmPasses = 0;
    const blocks = BYTES / OBJECT_BYTES;
    while (diskBlocksAfterCold > 0 && reader.cache.stats().diskBlocks < blocks && warmPasses < 8) {
      await readOnce();
      await reader.cache.settle();
      warmPasses++;
    }
    const diskBlocksBeforeCached = reader.cache.stats().diskBlocks;
    const cachedSec = await readOnce();
    return {
      writeMBs: mbs(BYTES, writeSec), coldReadMBs: mbs(BYTES, coldSec), cachedReadMBs: mbs(BYTES, cachedSec),
      peakRss, peakReadRss, maxPuts: wStore.maxPuts, maxGets: rStore.maxGets, diskBlocksAfterCold, warmPasses, diskBlocksBeforeCached,
    };
  } finally {
    clearInterval(readSampler);
    await reader.close();
    await meta.close();
  }
}

interface DiskCeiling {
  tool: string;
  writeMBs: number;
  readMBs: number;
  readMode: string;
}

/**
 * The disk's sequential ceiling in `dir`: fio, 1 MiB blocks, one job at queue depth 1, writing with
 * an fsync every 4 MiB (the file store makes each 4 MiB object durable before it answers), reading
 * with O_DIRECT (page cache when the file system refuses it). Falls back to dd when fio is missing.
 */
function diskCeiling(dir: string): DiskCeiling {
  const file = join(dir, 'fio.bin');
  const fio = (rw: 'write' | 'read', direct: boolean): { ok: boolean; mbs: number; err: string } => {
    const r = spawnSync('fio', [
      '--name=ferry', `--filename=${file}`, `--rw=${rw}`, '--bs=1M', `--size=${BYTES}`, '--ioengine=psync',
      `--direct=${direct ? 1 : 0}`, ...(rw === 'write' ? [`--fsync=${OBJECT_BYTES / MiB}`, '--end_fsync=1'] : []), '--output-format=json',
    ], { encoding: 'utf8', maxBuffer: 16 * MiB });
    if (r.error !== undefined || r.status !== 0) return { ok: false, mbs: 0, err: r.error?.message ?? r.stderr };
    const job = (JSON.parse(r.stdout) as { jobs: { read: { bw_bytes: number }; write: { bw_bytes: number } }[] }).jobs[0];
    return { ok: job !== undefined, mbs: (job?.[rw].bw_bytes ?? 0) / 1e6, err: '' };
  };
  const w = fio('write', false);
  if (!w.ok) {
    process.stdout.write(`fio not usable (${w.err.trim().split('\n')[0] ?? ''}); using dd\n`);
    return { tool: 'dd', ...ddRun(dir) };
  }
  let r = fio('read', true);
  let readMode = 'O_DIRECT';
  if (!r.ok) {
    r = fio('read', false);
    readMode = 'page cache';
    if (!r.ok) throw new Error(`fio read failed: ${r.err}`);
  }
  return { tool: 'fio', writeMBs: w.mbs, readMBs: r.mbs, readMode };
}

/** dd write (conv=fsync) and read (iflag=direct when the file system allows it) of BYTES in `dir`. */
function ddRun(dir: string): { writeMBs: number; readMBs: number; readMode: string } {
  const file = join(dir, 'dd.bin');
  const count = String(BYTES / MiB);
  const dd = (args: string[]): { ok: boolean; sec: number; err: string } => {
    const start = process.hrtime.bigint();
    const r = spawnSync('dd', args, { encoding: 'utf8' });
    return { ok: r.status === 0, sec: seconds(start), err: r.stderr };
  };
  const w = dd(['if=/dev/urandom', `of=${file}`, 'bs=1M', `count=${count}`, 'conv=fsync', 'status=none']);
  if (!w.ok || statSync(file).size !== BYTES) throw new Error(`dd write failed: ${w.err}`);
  // dd from /dev/urandom measures the generator too; write again from the file just made (page cache)
  const file2 = join(dir, 'dd2.bin');
  const w2 = dd([`if=${file}`, `of=${file2}`, 'bs=1M', 'conv=fsync', 'status=none']);
  if (!w2.ok) throw new Error(`dd write failed: ${w2.err}`);
  let r = dd([`if=${file2}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
  let readMode = 'O_DIRECT';
  if (!r.ok) {
    r = dd([`if=${file2}`, 'of=/dev/null', 'bs=1M', 'status=none']);
    readMode = 'page cache';
    if (!r.ok) throw new Error(`dd read failed: ${r.err}`);
  }
  return { writeMBs: mbs(BYTES, w2.sec), readMBs: mbs(BYTES, r.sec), readMode };
}

/** Raw PUTs then GETs of BYTES in 4 MiB objects to a fresh bucket. */
async function rawS3Run(srv: S3rverServer, bucket: string, putConcurrency: number, getConcurrency: number): Promise<{ putMBs: number; getMBs: number }> {
  const store = new S3ObjectStore({
    bucket, region: 'us-east-1', endpoint: srv.endpoint, forcePathStyle: true, accessKey: srv.accessKey, secretKey: srv.secretKey,
  });
  try {
    const n = BYTES / OBJECT_BYTES;
    const body = randomBytes(OBJECT_BYTES);
    const putSec = await drive(n, putConcurrency, (i) => store.put(`raw/${i}`, body));
    settleDisk();
    const getSec = await drive(n, getConcurrency, async (i) => {
      const got = await store.get(`raw/${i}`);
      if (got.length !== OBJECT_BYTES) throw new Error(`raw GET of raw/${i} returned ${got.length} bytes`);
    });
    return { putMBs: mbs(BYTES, putSec), getMBs: mbs(BYTES, getSec) };
  } finally {
    await store.close();
  }
}

/**
 * `sync`: the dirty pages a write phase left (s3rver writes without fsync) are written back before
 * a read phase starts, so that write-back lands in neither the vfs read nor the raw GET ceiling.
 */
function settleDisk(): void {
  spawnSync('sync');
}

const fmt = (x: number): string => x.toFixed(1).padStart(9);
const ratio = (a: number, b: number): string => `${(a / b * 100).toFixed(0)}%`;

async function main(): Promise<void> {
  configureLogger({ level: 'warn' });
  process.stdout.write(`ferry data benchmark: ${BYTES} bytes (${(BYTES / MiB).toFixed(0)} MiB), ${WRITE_BYTES / MiB} MiB writes, ${OBJECT_BYTES / MiB} MiB blocks, memory meta, write-through\n`);
  process.stdout.write(`load average at the start (1/5/15 min): ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs\n`);
  let srv: S3rverServer | undefined;
  try {
    // file store on local disk
    const storeDir = tmpDir('ferry-bench-store-');
    const file = await vfsRunInChild({ Storage: 'file', Bucket: `${storeDir}/` });
    const disk = diskCeiling(tmpDir('ferry-bench-disk-'));
    const t = disk.tool;
    table(`file store (local disk, same file system as ${t})`, [
      ['figure', 'MB/s', 'vs ceiling / target'],
      [`${t} write (1 MiB, ${t === 'fio' ? 'fsync every 4 MiB' : 'fsync at end'})`, fmt(disk.writeMBs), ''],
      [`${t} read (1 MiB, ${disk.readMode})`, fmt(disk.readMBs), ''],
      ['vfs write + fsync', fmt(file.writeMBs), `${ratio(file.writeMBs, disk.writeMBs)} of ${t} write`],
      ['vfs read, cold', fmt(file.coldReadMBs), `${ratio(file.coldReadMBs, disk.readMBs)} of ${t} read`],
      ['vfs read, again (no disk cache: same file system)', fmt(file.cachedReadMBs), `${ratio(file.cachedReadMBs * 1e6, CACHED_READ_TARGET)} of 1 GB/s target`],
      ['peak RSS during write', `${(file.peakRss / MiB).toFixed(0)} MiB`, `${ratio(file.peakRss, RSS_TARGET)} of 600 MiB target`],
      ['peak RSS during reads', `${(file.peakReadRss / MiB).toFixed(0)} MiB`, ''],
    ]);

    // s3rver
    srv = await startS3rver();
    await createBucket(srv, 'vfs');
    await createBucket(srv, 'raw');
    const s3 = await vfsRunInChild({ Storage: 'minio', Bucket: `${srv.endpoint}/vfs`, AccessKey: srv.accessKey, SecretKey: srv.secretKey });
    const raw = await rawS3Run(srv, 'raw', s3.maxPuts, s3.maxGets);
    table(`s3rver (raw ceiling: S3ObjectStore, ${OBJECT_BYTES / MiB} MiB objects, PUT x${s3.maxPuts} / GET x${s3.maxGets} in flight as the vfs had)`, [
      ['figure', 'MB/s', 'vs ceiling / target'],
      ['raw PUT', fmt(raw.putMBs), ''],
      ['raw GET', fmt(raw.getMBs), ''],
      ['vfs write + fsync', fmt(s3.writeMBs), `${ratio(s3.writeMBs, raw.putMBs)} of raw PUT`],
      ['vfs read, cold', fmt(s3.coldReadMBs), `${ratio(s3.coldReadMBs, raw.getMBs)} of raw GET`],
      [`vfs read, cached (${s3.diskBlocksBeforeCached} of ${BYTES / OBJECT_BYTES} blocks on disk)`, fmt(s3.cachedReadMBs), `${ratio(s3.cachedReadMBs * 1e6, CACHED_READ_TARGET)} of 1 GB/s target`],
      ['blocks in the disk cache after the cold read', String(s3.diskBlocksAfterCold), `of ${BYTES / OBJECT_BYTES}; ${s3.warmPasses} more read(s) to cache all`],
      ['peak RSS during write', `${(s3.peakRss / MiB).toFixed(0)} MiB`, `${ratio(s3.peakRss, RSS_TARGET)} of 600 MiB target`],
      ['peak RSS during reads', `${(s3.peakReadRss / MiB).toFixed(0)} MiB`, ''],
    ]);
    process.stdout.write(`\nload average at the end (1/5/15 min): ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  } finally {
    await srv?.stop();
    removeTmpDirs();
  }
}

(process.argv.includes(CHILD_FLAG) ? childMain() : main()).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
