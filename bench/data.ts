/**
 * Data path benchmark (`npm run bench:data`): one large file written sequentially through the Vfs
 * (1 MiB writes, then fsync) and read back sequentially, cold (a fresh Vfs and cache over the same
 * volume) and cached (a second read), next to ceilings measured in the same run: `dd` on the same
 * disk for the file store, raw 4 MiB PUT/GET through S3ObjectStore to the same s3rver at the
 * concurrency the Vfs was seen to use. Also samples peak RSS during the writes. Numbers only, no
 * assertions beyond a stamp check of the bytes read back; stops its s3rver and removes its temp dirs.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
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
/** File size; FERRY_BENCH_BYTES overrides (the figure is 4 GiB). Rounded down to whole MiB. */
const BYTES = Math.max(16 * MiB, Math.floor((Number(process.env['FERRY_BENCH_BYTES'] ?? 1024 * MiB) || 1024 * MiB) / MiB) * MiB);
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
  maxPuts: number;
  maxGets: number;
}

/** Writes the file through a fresh volume, then reads it twice through another fresh volume. */
async function vfsRun(setting: Pick<Format, 'Storage' | 'Bucket' | 'AccessKey' | 'SecretKey'>): Promise<VfsFigures> {
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

  const rStore = new InflightCounter(createObjectStore(storageSetting(format)));
  const reader = await openVolume({ meta }, { ...opts(rStore), cacheDirs: [tmpDir('ferry-bench-cache-')] });
  try {
    const readOnce = async (): Promise<number> => {
      const { handle } = await reader.vfs.open(CTX, ino, MODE_READ);
      const start = process.hrtime.bigint();
      for (let off = 0; off < BYTES; off += WRITE_BYTES) {
        const got = await reader.vfs.read(CTX, handle, off, WRITE_BYTES);
        if (got.length !== WRITE_BYTES || got.readUInt32LE(0) !== off / WRITE_BYTES || got[WRITE_BYTES - 1] !== template[WRITE_BYTES - 1]) {
          throw new Error(`read back wrong bytes at offset ${off}`);
        }
      }
      const sec = seconds(start);
      await reader.vfs.release(CTX, handle);
      return sec;
    };
    const coldSec = await readOnce();
    await reader.cache.settle();
    const cachedSec = await readOnce();
    return {
      writeMBs: mbs(BYTES, writeSec), coldReadMBs: mbs(BYTES, coldSec), cachedReadMBs: mbs(BYTES, cachedSec),
      peakRss, maxPuts: wStore.maxPuts, maxGets: rStore.maxGets,
    };
  } finally {
    await reader.close();
    await meta.close();
  }
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
    const getSec = await drive(n, getConcurrency, async (i) => {
      const got = await store.get(`raw/${i}`);
      if (got.length !== OBJECT_BYTES) throw new Error(`raw GET of raw/${i} returned ${got.length} bytes`);
    });
    return { putMBs: mbs(BYTES, putSec), getMBs: mbs(BYTES, getSec) };
  } finally {
    await store.close();
  }
}

const fmt = (x: number): string => x.toFixed(1).padStart(9);
const ratio = (a: number, b: number): string => `${(a / b * 100).toFixed(0)}%`;

async function main(): Promise<void> {
  configureLogger({ level: 'warn' });
  process.stdout.write(`ferry data benchmark: ${BYTES} bytes (${(BYTES / MiB).toFixed(0)} MiB), ${WRITE_BYTES / MiB} MiB writes, ${OBJECT_BYTES / MiB} MiB blocks, memory meta, write-through\n`);
  let srv: S3rverServer | undefined;
  try {
    // file store on local disk
    const storeDir = tmpDir('ferry-bench-store-');
    const file = await vfsRun({ Storage: 'file', Bucket: `${storeDir}/` });
    const dd = ddRun(tmpDir('ferry-bench-dd-'));
    table('file store (local disk, same file system as dd)', [
      ['figure', 'MB/s', 'vs ceiling / target'],
      ['dd write (conv=fsync)', fmt(dd.writeMBs), ''],
      [`dd read (${dd.readMode})`, fmt(dd.readMBs), ''],
      ['vfs write + fsync', fmt(file.writeMBs), `${ratio(file.writeMBs, dd.writeMBs)} of dd write`],
      ['vfs read, cold', fmt(file.coldReadMBs), `${ratio(file.coldReadMBs, dd.readMBs)} of dd read`],
      ['vfs read, cached', fmt(file.cachedReadMBs), `${ratio(file.cachedReadMBs * 1e6, CACHED_READ_TARGET)} of 1 GB/s target`],
      ['peak RSS during write', `${(file.peakRss / MiB).toFixed(0)} MiB`, `${ratio(file.peakRss, RSS_TARGET)} of 600 MiB target`],
    ]);

    // s3rver
    srv = await startS3rver();
    await createBucket(srv, 'vfs');
    await createBucket(srv, 'raw');
    const s3 = await vfsRun({ Storage: 'minio', Bucket: `${srv.endpoint}/vfs`, AccessKey: srv.accessKey, SecretKey: srv.secretKey });
    const raw = await rawS3Run(srv, 'raw', s3.maxPuts, s3.maxGets);
    table(`s3rver (raw ceiling: S3ObjectStore, ${OBJECT_BYTES / MiB} MiB objects, PUT x${s3.maxPuts} / GET x${s3.maxGets} in flight as the vfs had)`, [
      ['figure', 'MB/s', 'vs ceiling / target'],
      ['raw PUT', fmt(raw.putMBs), ''],
      ['raw GET', fmt(raw.getMBs), ''],
      ['vfs write + fsync', fmt(s3.writeMBs), `${ratio(s3.writeMBs, raw.putMBs)} of raw PUT`],
      ['vfs read, cold', fmt(s3.coldReadMBs), `${ratio(s3.coldReadMBs, raw.getMBs)} of raw GET`],
      ['vfs read, cached', fmt(s3.cachedReadMBs), `${ratio(s3.cachedReadMBs * 1e6, CACHED_READ_TARGET)} of 1 GB/s target`],
      ['peak RSS during write', `${(s3.peakRss / MiB).toFixed(0)} MiB`, `${ratio(s3.peakRss, RSS_TARGET)} of 600 MiB target`],
    ]);
  } finally {
    await srv?.stop();
    removeTmpDirs();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
