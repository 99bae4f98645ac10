/**
 * Disk tier of the block cache: block files at `<dir>/<volume UUID>/raw/<object key>` in one or
 * more cache dirs (a key's dir is a hash of the key), in the checksummed format of cache-file.ts,
 * written with temp file + rename (no fsync: a torn file fails its checksum and is re-fetched).
 * Each dir keeps `cacheSizeBytes / dirs` and a free-space floor of `freeSpaceRatio`, evicting least
 * recently used blocks. The index is rebuilt by a background scan at start-up; an unindexed key is
 * looked up on disk directly (during the scan, and for blocks written by another process such as
 * `ferry warmup`) and indexed when found. Never stages or uploads (staging.ts does).
 *
 * Accounting invariant per dir: usedBytes = sum of indexed file sizes; reservedBytes = sizes of
 * files being written or adopted and not yet indexed. Both are only changed on the event loop.
 */
import { statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { ByteRange } from '../storage/object-store.js';
import { CorruptCacheFile, encodeTrailer, fileSizeFor, MAX_BLOCK_BYTES, readCacheFile, readVerifiedFd } from './cache-file.js';
import { ensureDir } from '../util/durable-fs.js';
import { ReadFds } from '../util/read-fds.js';
import type { StatFsFn } from '../util/fs-space.js';
import { dirIndexFor, keyPath, removeFile, tryKeyPath, walkFiles, writeAtomic, type FoundFile } from './local-fs.js';
import type { CacheMetrics } from './metrics.js';

export interface DiskTierOptions {
  dirs: string[];
  volumeUuid: string;
  /** Total over all dirs, split evenly. */
  cacheSizeBytes: number;
  /** Keep at least this fraction of each cache disk free (0..1). */
  freeSpaceRatio: number;
  statfs: StatFsFn;
  metrics: CacheMetrics;
  log: Logger;
}

class CacheDir {
  readonly root: string; // <dir>/<uuid>/raw
  readonly #base: string;
  readonly #limitBytes: number;
  readonly #ratio: number;
  readonly #statfs: StatFsFn;
  readonly #metrics: CacheMetrics;
  readonly #log: Logger;
  readonly #index = new Map<string, number>(); // key -> file size, LRU order (oldest first)
  #usedBytes = 0;
  #reservedBytes = 0;
  #scanning = true;
  #evictedDuringScan = new Set<string>();
  #closed = false;
  readonly #background = new Set<Promise<void>>();
  /** Descriptors of recently read indexed files: a hit is then its reads only, no open and close. */
  readonly #fds = new ReadFds();

  constructor(base: string, volumeUuid: string, opts: DiskTierOptions, limitBytes: number) {
    this.#base = base;
    this.root = `${base}/${volumeUuid}/raw`;
    this.#limitBytes = limitBytes;
    this.#ratio = opts.freeSpaceRatio;
    this.#statfs = opts.statfs;
    this.#metrics = opts.metrics;
    this.#log = opts.log;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get blockCount(): number {
    return this.#index.size;
  }

  /** The cached range (whole block without one), or undefined on a miss; a corrupt file is dropped and reported as a miss. */
  async read(key: string, range: ByteRange | undefined): Promise<Buffer | undefined> {
    // An unindexed key is looked up on disk too: during the start-up scan, and for blocks another
    // process put there (`ferry warmup` next to a running daemon); one failed open per miss is
    // cheap next to the store GET that follows it.
    const path = tryKeyPath(this.root, key);
    if (path === undefined) return undefined;
    const indexed = this.#index.get(key);
    // An unindexed key is looked up with a synchronous stat (a dentry lookup, microseconds): an
    // asynchronous open would queue in the thread pool behind slow cache writes and stall the
    // read that is about to go to the store anyway.
    if (indexed === undefined && statSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
    try {
      // a file of another size than indexed (replaced behind our back) fails its footer check
      if (indexed !== undefined) {
        const data = await this.#fds.use(path, (fd) => readVerifiedFd(fd, indexed, range));
        // evicted or rewritten while it was read: the index already says what is on disk
        if (this.#index.get(key) === indexed) this.#touch(key, indexed);
        return data;
      }
      const found = await readCacheFile(path, range);
      if (found === undefined) return undefined;
      this.#touch(key, found.fileSize);
      return found.data;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT' || code === 'ENOTDIR') { // deleted behind our back
        this.#forget(key, path);
        return undefined;
      }
      if (err instanceof CorruptCacheFile) {
        this.#log.warn({ key, path, reason: err.message }, 'corrupt cached block dropped; fetching it again');
        this.#metrics.corrupt.inc({ tier: 'disk' });
      } else {
        this.#log.warn({ key, path, err }, 'cannot read cached block; fetching it again');
      }
      this.evict(key);
      return undefined;
    }
  }

  /** Writes `body` as the cached copy of `key` if the limits allow; failures are logged, never thrown. */
  async admit(key: string, body: Buffer): Promise<void> {
    const size = fileSizeFor(body.length);
    if (this.#closed || body.length > MAX_BLOCK_BYTES || size > this.#limitBytes) return;
    this.#reservedBytes += size;
    try {
      if (!(await this.#makeRoom(size))) return;
      const path = keyPath(this.root, key);
      await writeAtomic(path, [body, encodeTrailer(body)], false);
      this.#fds.drop(path);
      this.#touch(key, size);
    } catch (err) {
      this.#log.warn({ key, err }, 'cannot write block to the disk cache');
    } finally {
      this.#reservedBytes -= size;
    }
  }

  /**
   * Moves the finished file `src` (same filesystem, cache-file format) in as the cached copy of
   * `key` if the limits allow, else deletes it. Throws only when `src` cannot be removed.
   */
  async adopt(key: string, src: string, size: number): Promise<void> {
    this.#reservedBytes += size;
    try {
      // The staged file already occupies the disk: renaming it takes no new space.
      if (!this.#closed && size <= this.#limitBytes && (await this.#makeRoom(0))) {
        const path = keyPath(this.root, key);
        try {
          await ensureDir(dirname(path), false);
          await rename(src, path);
          this.#fds.drop(path);
          this.#touch(key, size);
          return;
        } catch (err) {
          this.#log.warn({ key, err }, 'cannot move uploaded block into the disk cache');
        }
      }
      await removeFile(src);
    } finally {
      this.#reservedBytes -= size;
    }
  }

  /** Drops `key` from the index and deletes its file (also when unindexed, e.g. during the scan). */
  evict(key: string): void {
    this.#unindex(key);
    if (this.#scanning) this.#evictedDuringScan.add(key);
    const path = tryKeyPath(this.root, key);
    if (path === undefined) return; // such a key is never written here
    this.#fds.drop(path);
    this.#track(removeFile(path).catch((err: unknown) => this.#log.warn({ key, err }, 'cannot delete cached block')));
  }

  /** Rebuilds the index from the files on disk, oldest access first, then enforces the limits. */
  async scan(): Promise<void> {
    const started = Date.now();
    const found: FoundFile[] = [];
    try {
      await ensureDir(this.root, false);
      for await (const f of walkFiles(this.root, () => this.#closed)) found.push(f);
    } catch (err) {
      this.#log.error({ root: this.root, err }, 'disk cache scan failed; serving with a partial index');
    }
    found.sort((a, b) => a.usedMs - b.usedMs);
    const merged = new Map<string, number>();
    let addedBytes = 0;
    for (const f of found) {
      if (this.#index.has(f.key) || this.#evictedDuringScan.has(f.key)) continue;
      merged.set(f.key, f.size);
      addedBytes += f.size;
    }
    const addedBlocks = merged.size;
    for (const [key, size] of this.#index) merged.set(key, size);
    this.#index.clear();
    for (const [key, size] of merged) this.#index.set(key, size);
    this.#usedBytes += addedBytes;
    this.#metrics.blocks.inc({ tier: 'disk' }, addedBlocks);
    this.#metrics.bytes.inc({ tier: 'disk' }, addedBytes);
    this.#scanning = false;
    this.#evictedDuringScan = new Set();
    this.#log.info({ root: this.root, blocks: this.#index.size, bytes: this.#usedBytes, ms: Date.now() - started }, 'disk cache index rebuilt');
    if (!this.#closed) await this.#makeRoom(0).catch((err: unknown) => this.#log.warn({ root: this.root, err }, 'cannot check cache disk space'));
  }

  /** Waits for the file deletions started so far. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.all([...this.#background]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fds.clear();
    await this.settle();
  }

  /** Descriptors kept for reads (tests). */
  get keptDescriptors(): number {
    return this.#fds.size;
  }

  /** A file found gone: out of the index, its kept descriptor closed. */
  #forget(key: string, path: string): void {
    this.#unindex(key);
    this.#fds.drop(path);
  }

  /**
   * Evicts least recently used blocks until indexed plus reserved bytes fit under the size limit
   * and writing `newDiskBytes` more leaves the free-space floor; false when they cannot (the index
   * ran empty). Callers reserve their file's size before calling.
   */
  async #makeRoom(newDiskBytes: number): Promise<boolean> {
    const space = await this.#statfs(this.#base);
    const floor = this.#ratio * space.totalBytes;
    let free = space.freeBytes - newDiskBytes;
    const over = (): boolean => this.#usedBytes + this.#reservedBytes > this.#limitBytes || free < floor;
    while (over()) {
      const oldest = this.#index.keys().next();
      if (oldest.done === true) break;
      free += this.#index.get(oldest.value) ?? 0;
      this.evict(oldest.value);
      this.#metrics.evictions.inc({ tier: 'disk' });
    }
    return !over();
  }

  #touch(key: string, size: number): void {
    const old = this.#index.get(key);
    if (old !== undefined) {
      this.#index.delete(key);
      this.#usedBytes -= old;
      this.#metrics.bytes.dec({ tier: 'disk' }, old);
    } else {
      this.#metrics.blocks.inc({ tier: 'disk' });
    }
    this.#index.set(key, size);
    this.#usedBytes += size;
    this.#metrics.bytes.inc({ tier: 'disk' }, size);
  }

  #unindex(key: string): void {
    const size = this.#index.get(key);
    if (size === undefined) return;
    this.#index.delete(key);
    this.#usedBytes -= size;
    this.#metrics.blocks.dec({ tier: 'disk' });
    this.#metrics.bytes.dec({ tier: 'disk' }, size);
  }

  #track(p: Promise<void>): void {
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }
}

export class DiskTier {
  readonly #dirs: CacheDir[];
  #scanned: Promise<void> = Promise.resolve();

  constructor(opts: DiskTierOptions) {
    const limit = Math.floor(opts.cacheSizeBytes / Math.max(1, opts.dirs.length));
    this.#dirs = opts.dirs.map((d) => new CacheDir(d, opts.volumeUuid, opts, limit));
  }

  /** Starts the background index scans of every dir. */
  start(): void {
    this.#scanned = Promise.all(this.#dirs.map((d) => d.scan())).then(() => undefined);
  }

  /** Resolves when every dir's start-up scan has finished. */
  scanned(): Promise<void> {
    return this.#scanned;
  }

  get usedBytes(): number {
    return this.#dirs.reduce((n, d) => n + d.usedBytes, 0);
  }

  get blockCount(): number {
    return this.#dirs.reduce((n, d) => n + d.blockCount, 0);
  }

  /** Read descriptors kept open over all dirs (tests). */
  get keptDescriptors(): number {
    return this.#dirs.reduce((n, d) => n + d.keptDescriptors, 0);
  }

  read(key: string, range: ByteRange | undefined): Promise<Buffer | undefined> {
    return this.#dirFor(key).read(key, range);
  }

  admit(key: string, body: Buffer): Promise<void> {
    return this.#dirFor(key).admit(key, body);
  }

  adopt(key: string, src: string, size: number): Promise<void> {
    return this.#dirFor(key).adopt(key, src, size);
  }

  evict(key: string): void {
    this.#dirFor(key).evict(key);
  }

  async settle(): Promise<void> {
    await Promise.all(this.#dirs.map((d) => d.settle()));
  }

  async close(): Promise<void> {
    await Promise.all(this.#dirs.map((d) => d.close()));
    await this.#scanned;
  }

  #dirFor(key: string): CacheDir {
    const dir = this.#dirs[dirIndexFor(key, this.#dirs.length)];
    if (dir === undefined) throw new Error('disk tier has no cache dirs');
    return dir;
  }
}
