/**
 * The BlockCache seam (STYLE.md §2) and its implementation: blocks by OBJECT KEY, read through a
 * memory tier, the write-back staging area, a disk tier on the appliance's cache dirs, then the
 * ObjectStore (DESIGN.md "Read path"; spec §D: objects are immutable, so a cached block never goes
 * stale). Concurrent misses for one key share one fetch. put() is write-through (uploaded before it
 * resolves) or write-back (fsynced in staging before it resolves, uploaded in the background).
 * It knows nothing about files, inodes or slices, and never imports meta or vfs.
 */
import { setMaxListeners } from 'node:events';
import { Registry } from 'prom-client';
import { logger as rootLogger, type Logger } from '../observability/logger.js';
import { parseBlockKey } from '../storage/keys.js';
import { checkKey, checkRange, sliceRange, type ByteRange, type ObjectStore } from '../storage/object-store.js';
import { Errno, FsError } from '../util/errno.js';
import { DiskTier } from './disk-tier.js';
import { ensureDir } from '../util/durable-fs.js';
import { statFsBytes, type StatFsFn } from '../util/fs-space.js';
import { removeFile } from './local-fs.js';
import { MemoryTier } from './memory-tier.js';
import { cacheMetrics, type CacheMetrics } from './metrics.js';
import { SingleFlight } from './singleflight.js';
import { Staging } from './staging.js';

export interface PutOptions {
  /** Stage on local disk and upload in the background; put() resolves once the staged file is fsynced. */
  writeBack?: boolean;
  /** After a write-through upload, also keep the block in the memory and disk tiers (default: the cache's cacheOnPut). */
  cache?: boolean;
  signal?: AbortSignal;
}

/**
 * Errors are FsErrors as ObjectStore reports them (ENOENT missing object, EINVAL bad key or range,
 * EIO...); an aborted call rejects with `signal.reason`. A key that cannot be a local file name
 * bypasses the disk (write-back falls back to write-through). Returned buffers are shared with the
 * cache: callers must not modify them.
 */
export interface BlockCache {
  /** Whole block, or the bytes of `range` (short at the end, empty past it), from the first tier that has it; ENOENT when no tier and not the store has it. */
  get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  /** Stores an immutable block: uploaded before resolving, or with `writeBack` durable in local staging before resolving; `body` must not change afterwards. */
  put(key: string, body: Buffer, opts?: PutOptions): Promise<void>;
  /**
   * Bytes `range` of the block `key` copied into `dest` (at least range.length long) from its
   * start; resolves to the count (short at the end of the block). When no tier keeps blocks and the
   * store reads in place, they go from the store straight into `dest` without a buffer of their own.
   */
  getInto(key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number>;
  /** Drops cached copies of `key` (memory and disk); a staged block stays until uploaded; idempotent. */
  evict(key: string): Promise<void>;
  /** Deletes the block everywhere: cancels its staged upload, drops cached copies, deletes the object; idempotent. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Staged blocks not uploaded yet. */
  pendingUploads(): number;
  /** Resolves when every staged block (including those left by a crash) is uploaded; rejects with `signal.reason` if aborted. */
  drain(signal?: AbortSignal): Promise<void>;
  /** Stops background work (staged blocks not uploaded stay for the next start) and releases files; later get/put fail with EIO; does not close the store. */
  close(): Promise<void>;
}

export interface BlockCacheOptions {
  store: ObjectStore;
  /** Format.UUID of the volume: local files live under `<dir>/<uuid>/`. */
  volumeUuid: string;
  /** Cache dirs (e.g. one per NVMe disk); none = memory only, and write-back falls back to write-through. */
  cacheDirs?: string[];
  /**
   * Keep fetched blocks in the cache dirs (default true). False when the store is as near as the
   * cache disk (a file store on the same file system): the dirs then only stage write-back blocks,
   * which are deleted once uploaded.
   */
  diskCache?: boolean;
  /** Disk tier limit over all dirs (default 100 GiB; JuiceFS --cache-size). */
  cacheSizeBytes?: number;
  /** Read cache keeps this fraction of each cache disk free (default 0.1; JuiceFS --free-space-ratio); staging may go down to half of it, then put() uploads directly. */
  freeSpaceRatio?: number;
  /** Memory tier limit (default 64 MiB; 0 disables it). */
  memoryCacheBytes?: number;
  /** Whole-block background fetches allowed at once after a ranged miss (default 1, JuiceFS --prefetch; 0 disables; none without a memory or disk tier). */
  prefetch?: number;
  /** Default of PutOptions.cache (default false: written blocks are not cached, like JuiceFS without --cache-large-write). */
  cacheOnPut?: boolean;
  /**
   * Re-queue and upload blocks found in staging at start-up (default true). False for a second
   * process on the daemon's cache dirs (the admin CLI): it reads staged blocks but leaves their
   * upload to the daemon that owns them.
   */
  uploadStaged?: boolean;
  /** Concurrent uploads of staged blocks (default 20; JuiceFS --max-uploads). */
  maxUploads?: number;
  /** First retry delay of a failed staged upload (default 100 ms), doubled up to uploadRetryMaxDelayMs (default 30 s). */
  uploadRetryBaseDelayMs?: number;
  uploadRetryMaxDelayMs?: number;
  /** Free-space source for the cache disks (default fs.statfs); tests inject one. */
  statfs?: StatFsFn;
  /** Where ferry_cache_* metrics go (default: a private registry, never the global one). */
  registry?: Registry;
  logger?: Logger;
}

export const DEFAULT_CACHE_SIZE_BYTES = 100 * 1024 ** 3;
export const DEFAULT_FREE_SPACE_RATIO = 0.1;
export const DEFAULT_MEMORY_CACHE_BYTES = 64 * 1024 ** 2;
export const DEFAULT_MAX_UPLOADS = 20;
/**
 * Blocks waiting for or in a disk-tier write; beyond it a fetched block is not cached on disk (as
 * JuiceFS drops blocks when its cache disk lags). About ten times the writes running: enough to ride
 * out a slow write, while a cache disk slower than the store costs dropped blocks, not memory.
 */
const MAX_PENDING_DISK_WRITES = 32;
/**
 * Disk-tier writes running at once; the rest of the pending blocks wait in order. Below libuv's 4
 * threads, so that cache writes a busy disk slows down never take the whole thread pool from
 * the reads (of cached blocks, and of a file store).
 */
const DISK_WRITE_CONCURRENCY = 3;

export interface CacheStats {
  memoryBlocks: number;
  memoryBytes: number;
  diskBlocks: number;
  /** Sum of cached file sizes (blocks plus their checksum trailers). */
  diskBytes: number;
  pendingUploads: number;
}

export class TieredBlockCache implements BlockCache {
  readonly #store: ObjectStore;
  readonly #memory: MemoryTier;
  readonly #disk: DiskTier | undefined;
  readonly #staging: Staging | undefined;
  readonly #metrics: CacheMetrics;
  readonly #log: Logger;
  readonly #prefetchLimit: number;
  readonly #cacheOnPut: boolean;
  readonly #wholeFlights = new SingleFlight<Buffer>();
  readonly #rangeFlights = new SingleFlight<Buffer>();
  readonly #background = new Set<Promise<unknown>>();
  #prefetching = 0;
  readonly #keepsBlocks: boolean; // a memory or disk tier keeps fetched blocks
  readonly #admitting = new Map<string, Buffer>(); // blocks queued for or being written to the disk tier, still served from here
  readonly #admitQueue: string[] = []; // keys of #admitting not started yet, oldest first
  #diskWrites = 0; // disk-tier writes running
  readonly #closing = new AbortController();
  #closed = false;

  private constructor(opts: BlockCacheOptions, dirs: string[]) {
    const registry = opts.registry ?? new Registry();
    this.#store = opts.store;
    this.#metrics = cacheMetrics(registry);
    this.#log = opts.logger ?? rootLogger.child({ module: 'cache' });
    this.#memory = new MemoryTier(opts.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES, this.#metrics);
    const diskTier = dirs.length > 0 && opts.diskCache !== false;
    // a whole block fetched in the background is only worth it when some tier keeps it
    const keeps = (opts.memoryCacheBytes ?? DEFAULT_MEMORY_CACHE_BYTES) > 0 || diskTier;
    this.#keepsBlocks = keeps;
    this.#prefetchLimit = keeps ? opts.prefetch ?? 1 : 0;
    this.#cacheOnPut = opts.cacheOnPut ?? false;
    setMaxListeners(0, this.#closing.signal); // one listener per prefetch in flight, bounded by `prefetch`
    const statfs = opts.statfs ?? statFsBytes;
    const freeSpaceRatio = opts.freeSpaceRatio ?? DEFAULT_FREE_SPACE_RATIO;
    if (dirs.length === 0) return;
    const disk = !diskTier ? undefined : new DiskTier({
      dirs,
      volumeUuid: opts.volumeUuid,
      cacheSizeBytes: opts.cacheSizeBytes ?? DEFAULT_CACHE_SIZE_BYTES,
      freeSpaceRatio,
      statfs,
      metrics: this.#metrics,
      log: this.#log,
    });
    this.#disk = disk;
    this.#staging = new Staging({
      dirs,
      volumeUuid: opts.volumeUuid,
      store: opts.store,
      maxUploads: opts.maxUploads ?? DEFAULT_MAX_UPLOADS,
      retryBaseDelayMs: opts.uploadRetryBaseDelayMs ?? 100,
      maxRetryDelayMs: opts.uploadRetryMaxDelayMs ?? 30_000,
      freeSpaceRatio,
      statfs,
      metrics: this.#metrics,
      log: this.#log,
      afterUpload: (key, path, size) => disk === undefined ? removeFile(path) : disk.adopt(key, path, size),
    });
  }

  /**
   * Checks the options, creates `<dir>/<uuid>/` in every cache dir (EACCES/EIO if it cannot) and
   * starts the background scans: the disk index rebuild and the re-upload of staged blocks.
   */
  static async open(opts: BlockCacheOptions): Promise<TieredBlockCache> {
    const uuid = opts.volumeUuid;
    if (uuid === '' || uuid === '.' || uuid === '..' || uuid.includes('/') || uuid.includes('\0')) {
      throw new FsError(Errno.EINVAL, `bad volume UUID ${JSON.stringify(uuid)}`);
    }
    const ratio = opts.freeSpaceRatio ?? DEFAULT_FREE_SPACE_RATIO;
    if (!(ratio >= 0 && ratio < 1)) throw new FsError(Errno.EINVAL, `free space ratio must be in [0, 1), got ${ratio}`);
    const dirs = (opts.cacheDirs ?? []).map((d) => d.replace(/\/+$/, '') || '/');
    for (const dir of dirs) {
      try {
        await ensureDir(`${dir}/${uuid}`, true);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new FsError(code === 'EACCES' || code === 'EPERM' ? Errno.EACCES : Errno.EIO, `cache dir ${dir}`, { cause: err });
      }
    }
    const cache = new TieredBlockCache(opts, dirs);
    cache.#disk?.start();
    if (opts.uploadStaged !== false) cache.#staging?.start();
    return cache;
  }

  /** Resolves when the start-up scans (disk index, staging) have finished. */
  async whenScanned(): Promise<void> {
    await this.#disk?.scanned();
    await this.#staging?.scanned();
  }

  /** Resolves when the background work started so far (disk writes, prefetches, file deletions) has finished. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    await this.#disk?.settle();
  }

  /** True when fetched blocks are kept in the cache dirs (a disk tier exists). */
  get keepsBlocksOnDisk(): boolean {
    return this.#disk !== undefined;
  }

  stats(): CacheStats {
    return {
      memoryBlocks: this.#memory.blockCount,
      memoryBytes: this.#memory.usedBytes,
      diskBlocks: this.#disk?.blockCount ?? 0,
      diskBytes: this.#disk?.usedBytes ?? 0,
      pendingUploads: this.pendingUploads(),
    };
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    checkKey(key);
    this.#checkOpen();
    if (range !== undefined) checkRange(range, key);

    const inMemory = this.#memory.get(key) ?? this.#admitting.get(key);
    if (inMemory !== undefined) return this.#hit('memory', sliceRange(inMemory, range));

    // Whole-block reads of one key share one lookup through the tiers, and one store GET.
    if (range === undefined || coversBlock(key, range)) return sliceRange(await this.#wholeFlights.do(key, (s) => this.#loadWhole(key, s), signal), range);
    const whole = this.#wholeFlights.join(key, signal);
    if (whole !== undefined) return sliceRange(await whole, range);

    const staged = await this.#staging?.read(key, range);
    if (staged !== undefined) return this.#hit('staging', staged);
    const onDisk = await this.#disk?.read(key, range);
    if (onDisk !== undefined) return this.#hit('disk', onDisk);
    const data = this.#fetchRange(key, range, signal);
    this.#prefetch(key);
    return data;
  }

  async getInto(key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number> {
    const direct = this.#store.readInto;
    if (this.#keepsBlocks || direct === undefined || this.#staging?.mayHold(key) === true) {
      const data = await this.get(key, range, signal);
      return data.copy(dest, 0, 0, Math.min(data.length, range.length));
    }
    signal?.throwIfAborted();
    checkKey(key);
    this.#checkOpen();
    checkRange(range, key);
    const n = await direct.call(this.#store, key, range, dest, signal);
    this.#metrics.misses.inc();
    this.#metrics.missBytes.inc(n);
    return n;
  }

  async put(key: string, body: Buffer, opts: PutOptions = {}): Promise<void> {
    const signal = opts.signal;
    signal?.throwIfAborted();
    checkKey(key);
    this.#checkOpen();
    const cache = opts.cache ?? this.#cacheOnPut;
    if (opts.writeBack === true && this.#staging !== undefined && (await this.#staging.stage(key, body))) {
      if (cache) this.#memory.put(key, Buffer.from(body));
      return;
    }
    await this.#store.put(key, body, signal);
    if (cache) {
      const copy = Buffer.from(body);
      this.#memory.put(key, copy);
      this.#admitToDisk(key, copy);
    }
  }

  async evict(key: string): Promise<void> {
    this.#memory.delete(key);
    this.#admitting.delete(key);
    this.#disk?.evict(key);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    checkKey(key);
    await this.#staging?.discard(key);
    await this.evict(key);
    await this.#store.delete(key, signal);
  }

  pendingUploads(): number {
    return this.#staging?.pendingUploads() ?? 0;
  }

  async drain(signal?: AbortSignal): Promise<void> {
    await this.#staging?.drain(signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new FsError(Errno.EIO, 'block cache closed'));
    await this.#staging?.close();
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    this.#admitQueue.length = 0; // queued disk writes are dropped: the blocks are in the store
    this.#admitting.clear();
    await this.#disk?.close();
    this.#memory.clear();
  }

  #hit(tier: 'memory' | 'disk' | 'staging', data: Buffer): Buffer {
    this.#metrics.hits.inc({ tier });
    this.#metrics.hitBytes.inc({ tier }, data.length);
    return data;
  }

  /** The whole block from staging, disk or the store (then kept in memory and, in the background, on disk); runs inside a flight. */
  async #loadWhole(key: string, signal: AbortSignal): Promise<Buffer> {
    const staged = await this.#staging?.read(key, undefined);
    if (staged !== undefined) return this.#hit('staging', staged);
    const onDisk = await this.#disk?.read(key, undefined);
    if (onDisk !== undefined) {
      this.#memory.put(key, onDisk);
      return this.#hit('disk', onDisk);
    }
    const body = await this.#store.get(key, undefined, signal);
    this.#metrics.misses.inc();
    this.#metrics.missBytes.inc(body.length);
    if (!this.#closed) {
      this.#memory.put(key, body);
      this.#admitToDisk(key, body);
    }
    return body;
  }

  /** A ranged GET, shared by concurrent callers of the same range; not cached. */
  #fetchRange(key: string, range: ByteRange, signal: AbortSignal | undefined): Promise<Buffer> {
    return this.#rangeFlights.do(`${key}\0${range.offset}+${range.length}`, async (flightSignal) => {
      const data = await this.#store.get(key, range, flightSignal);
      this.#metrics.misses.inc();
      this.#metrics.missBytes.inc(data.length);
      return data;
    }, signal);
  }

  /** After a ranged miss: fetch the whole block in the background, at most `prefetch` at a time (others are skipped). */
  #prefetch(key: string): void {
    if (this.#closed || this.#prefetching >= this.#prefetchLimit || this.#wholeFlights.has(key)) return;
    this.#prefetching++;
    this.#track(
      this.#wholeFlights.do(key, (s) => this.#loadWhole(key, s), this.#closing.signal)
        .catch((err: unknown) => {
          if (!this.#closed) this.#log.debug({ key, err }, 'block prefetch failed');
        })
        .finally(() => this.#prefetching--),
    );
  }

  /** Queues `body` for the disk tier; until written it stays readable from #admitting. */
  #admitToDisk(key: string, body: Buffer): void {
    if (this.#disk === undefined || this.#admitting.size >= MAX_PENDING_DISK_WRITES || this.#admitting.has(key)) return;
    this.#admitting.set(key, body);
    this.#admitQueue.push(key);
    this.#startDiskWrites();
  }

  /** Starts queued disk-tier writes up to DISK_WRITE_CONCURRENCY; each one finishing starts the next. */
  #startDiskWrites(): void {
    const disk = this.#disk;
    while (disk !== undefined && !this.#closed && this.#diskWrites < DISK_WRITE_CONCURRENCY) {
      const key = this.#admitQueue.shift();
      if (key === undefined) return;
      const body = this.#admitting.get(key);
      if (body === undefined) continue; // evicted while queued
      this.#diskWrites++;
      this.#track(disk.admit(key, body).finally(() => {
        this.#diskWrites--;
        if (this.#admitting.get(key) === body) this.#admitting.delete(key);
        else disk.evict(key); // evicted while being written
        this.#startDiskWrites();
      }));
    }
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  #checkOpen(): void {
    if (this.#closed) throw new FsError(Errno.EIO, 'block cache is closed');
  }
}

/** True when `range` starts at 0 and reaches the end of a block-shaped key's block (spec §D.2 encodes its length). */
function coversBlock(key: string, range: ByteRange): boolean {
  const parts = parseBlockKey(key);
  return parts !== undefined && range.offset === 0 && range.length >= parts.blockLen;
}
