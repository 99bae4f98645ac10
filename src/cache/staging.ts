/**
 * Write-back staging (DESIGN.md "Write path and durability"; JuiceFS --writeback, research (a)):
 * stage() writes a block to `<dir>/<volume UUID>/rawstaging/<object key>` (cache-file format, temp
 * file + rename, file and directory fsynced) and resolves: from then on the block survives a crash.
 * A background uploader puts staged blocks into the ObjectStore, at most `maxUploads` at a time,
 * retrying failures with capped exponential backoff for as long as the process runs, then hands the
 * file to `afterUpload` (move into the read cache, or delete). At start-up it scans rawstaging and
 * uploads what a crash left behind. It must never delete a staged block that was not uploaded,
 * except through discard() (the block's slice was deleted).
 */
import { setMaxListeners } from 'node:events';
import { rename } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import type { ByteRange, ObjectStore } from '../storage/object-store.js';
import { Errno, FsError } from '../util/errno.js';
import { CorruptCacheFile, encodeTrailer, fileSizeFor, MAX_BLOCK_BYTES, readCacheFile } from './cache-file.js';
import { ensureDir } from '../util/durable-fs.js';
import type { StatFsFn } from '../util/fs-space.js';
import { dirIndexFor, keyPath, removeFile, tryKeyPath, walkFiles, writeAtomic } from './local-fs.js';
import type { CacheMetrics } from './metrics.js';

/** Suffix of staged files that failed their checksum: kept for inspection, never uploaded. */
const CORRUPT_SUFFIX = '.corrupt';

export interface StagingOptions {
  dirs: string[];
  volumeUuid: string;
  store: ObjectStore;
  /** Concurrent uploads (JuiceFS --max-uploads, default 20). */
  maxUploads: number;
  /** First retry delay; doubled per failed attempt up to maxRetryDelayMs, with jitter. */
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
  /** The cache's free-space ratio; staging may fill the disk down to half of it. */
  freeSpaceRatio: number;
  statfs: StatFsFn;
  metrics: CacheMetrics;
  log: Logger;
  /** Takes over the staged file of an uploaded block (moves it into the read cache or deletes it). */
  afterUpload: (key: string, path: string, fileSize: number) => Promise<void>;
}

interface Pending {
  fileSize: number;
  attempts: number;
  active: Promise<void> | undefined; // the upload running now
  discarded: boolean; // discard() was called while uploading: delete instead of keeping
}

export class Staging {
  readonly #opts: StagingOptions;
  readonly #roots: string[]; // <dir>/<uuid>/rawstaging, same order as opts.dirs
  readonly #pending = new Map<string, Pending>(); // staged and not uploaded yet
  #queue: string[] = []; // keys waiting for an upload slot (may hold stale keys; checked on pick)
  #active = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  #drainWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #scanDone = false;
  #scanned: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #closing = new AbortController();

  constructor(opts: StagingOptions) {
    if (opts.dirs.length === 0) throw new FsError(Errno.EINVAL, 'write-back staging needs at least one cache dir');
    this.#opts = opts;
    setMaxListeners(0, this.#closing.signal); // one listener per upload in flight, bounded by maxUploads
    this.#roots = opts.dirs.map((d) => `${d}/${opts.volumeUuid}/rawstaging`);
  }

  /** Starts the background scan that re-queues blocks staged before a crash. */
  start(): void {
    this.#scanned = this.#scan();
  }

  /** Resolves when the start-up scan has finished. */
  scanned(): Promise<void> {
    return this.#scanned;
  }

  /** Blocks staged and not uploaded yet (including those found by the start-up scan so far). */
  pendingUploads(): number {
    return this.#pending.size;
  }

  /**
   * Stages `body` durably and queues its upload; true once it is fsynced. False, with nothing
   * staged, when the disk is below its staging floor or the write fails: the caller must then
   * upload the block itself.
   */
  async stage(key: string, body: Buffer): Promise<boolean> {
    if (this.#closed || body.length > MAX_BLOCK_BYTES) return false;
    const { root, base } = this.#rootFor(key);
    const path = key.endsWith(CORRUPT_SUFFIX) ? undefined : tryKeyPath(root, key);
    if (path === undefined) {
      this.#opts.log.warn({ key }, 'object key cannot be a staging file name; uploading directly');
      return false;
    }
    const fileSize = fileSizeFor(body.length);
    try {
      const space = await this.#opts.statfs(base);
      if (space.freeBytes - fileSize < (this.#opts.freeSpaceRatio / 2) * space.totalBytes) {
        this.#opts.log.warn({ key, freeBytes: space.freeBytes, totalBytes: space.totalBytes }, 'staging disk nearly full; uploading directly');
        return false;
      }
      await writeAtomic(path, [body, encodeTrailer(body)], true);
    } catch (err) {
      this.#opts.log.warn({ key, err }, 'cannot stage block; uploading directly');
      return false;
    }
    this.#add(key, fileSize);
    return true;
  }

  /** False when `key` is certainly not staged (not pending, and the start-up scan has finished). */
  mayHold(key: string): boolean {
    return this.#pending.has(key) || !this.#scanDone;
  }

  /** The staged bytes of `key` (range or whole block); undefined when `key` is not staged. EIO when the staged file is corrupt. */
  async read(key: string, range: ByteRange | undefined): Promise<Buffer | undefined> {
    if (!this.mayHold(key)) return undefined;
    const path = tryKeyPath(this.#rootFor(key).root, key);
    if (path === undefined) return undefined;
    try {
      return (await readCacheFile(path, range))?.data;
    } catch (err) {
      if (!(err instanceof CorruptCacheFile)) throw new FsError(Errno.EIO, `read staged block ${key}`, { cause: err });
      this.#opts.metrics.corrupt.inc({ tier: 'staging' });
      this.#opts.log.error({ key, path, reason: err.message }, 'staged block is corrupt');
      throw new FsError(Errno.EIO, `staged block ${key} is corrupt: ${err.message}`, { cause: err });
    }
  }

  /** Drops the staged copy of `key` without uploading it (its slice is gone); waits for an upload in progress. */
  async discard(key: string): Promise<void> {
    const path = tryKeyPath(this.#rootFor(key).root, key);
    if (path === undefined) return; // never staged
    const entry = this.#pending.get(key);
    if (entry?.active !== undefined) {
      entry.discarded = true;
      await entry.active;
    }
    this.#settle(key);
    await removeFile(path);
  }

  /** Resolves once the start-up scan is done and every staged block is uploaded; rejects with `signal.reason` or when closed. */
  async drain(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.#scanned;
    signal?.throwIfAborted();
    if (this.#pending.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = (): void => {
        this.#drainWaiters = this.#drainWaiters.filter((w) => w !== waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#drainWaiters.push(waiter);
    });
  }

  /** Stops uploading (uploads in flight are aborted and stay staged for the next start) and waits for background work. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new FsError(Errno.EIO, 'block cache closed'));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#scanned;
    await Promise.all([...this.#pending.values()].map((e) => e.active));
    for (const w of this.#drainWaiters.splice(0)) w.reject(new FsError(Errno.EIO, 'block cache closed before its uploads finished'));
  }

  #rootFor(key: string): { root: string; base: string } {
    const i = dirIndexFor(key, this.#roots.length);
    const root = this.#roots[i];
    const base = this.#opts.dirs[i];
    if (root === undefined || base === undefined) throw new Error('staging has no dirs');
    return { root, base };
  }

  #add(key: string, fileSize: number): void {
    if (this.#pending.has(key)) return; // staged again (same immutable bytes): the queued upload covers it
    this.#pending.set(key, { fileSize, attempts: 0, active: undefined, discarded: false });
    this.#opts.metrics.stagedBlocks.inc();
    this.#opts.metrics.stagedBytes.inc(fileSize);
    this.#queue.push(key);
    this.#pump();
  }

  #settle(key: string): void {
    const entry = this.#pending.get(key);
    if (entry === undefined) return;
    this.#pending.delete(key);
    this.#opts.metrics.stagedBlocks.dec();
    this.#opts.metrics.stagedBytes.dec(entry.fileSize);
    if (this.#pending.size === 0 && this.#scanDone) {
      for (const w of this.#drainWaiters.splice(0)) w.resolve();
    }
  }

  #pump(): void {
    while (!this.#closed && this.#active < this.#opts.maxUploads && this.#queue.length > 0) {
      const key = this.#queue.shift();
      if (key === undefined) break;
      const entry = this.#pending.get(key);
      if (entry === undefined || entry.active !== undefined) continue;
      this.#active++;
      const upload = this.#upload(key, entry);
      entry.active = upload;
      void upload.finally(() => {
        entry.active = undefined;
        this.#active--;
        this.#pump();
      });
    }
  }

  /** One upload attempt; never rejects. Success or a corrupt file settles the key; a failure schedules a retry. */
  async #upload(key: string, entry: Pending): Promise<void> {
    const { log, metrics, store } = this.#opts;
    let path = '';
    try {
      path = keyPath(this.#rootFor(key).root, key);
      const found = await readCacheFile(path);
      if (found === undefined) {
        log.warn({ key, path }, 'staged block vanished before upload');
        this.#settle(key);
        return;
      }
      if (entry.discarded) {
        await removeFile(path);
        this.#settle(key);
        return;
      }
      await store.put(key, found.data, this.#closing.signal);
      metrics.uploads.inc();
      if (entry.discarded) await removeFile(path);
      else await this.#opts.afterUpload(key, path, found.fileSize);
      this.#settle(key);
    } catch (err) {
      if (err instanceof CorruptCacheFile) {
        metrics.corrupt.inc({ tier: 'staging' });
        log.error({ key, path, reason: err.message }, `staged block is corrupt; kept as ${CORRUPT_SUFFIX} and not uploaded`);
        await rename(path, path + CORRUPT_SUFFIX).catch((e: unknown) => log.error({ key, err: e }, 'cannot set corrupt staged block aside'));
        this.#settle(key);
        return;
      }
      if (this.#closed) return; // stays staged; the next start uploads it
      entry.attempts++;
      metrics.uploadErrors.inc();
      const delayMs = this.#retryDelay(entry.attempts);
      log.warn({ key, attempt: entry.attempts, delayMs, err }, 'upload of staged block failed; will retry');
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#queue.push(key);
        this.#pump();
      }, delayMs);
      this.#timers.add(timer);
    }
  }

  #retryDelay(attempts: number): number {
    const cap = Math.min(this.#opts.maxRetryDelayMs, this.#opts.retryBaseDelayMs * 2 ** Math.min(30, attempts - 1));
    return Math.floor(cap / 2 + (Math.random() * cap) / 2);
  }

  async #scan(): Promise<void> {
    let found = 0;
    for (const root of this.#roots) {
      try {
        await ensureDir(root, true);
        for await (const f of walkFiles(root, () => this.#closed, (name) => name.endsWith(CORRUPT_SUFFIX))) {
          if (this.#pending.has(f.key)) continue;
          this.#add(f.key, f.size);
          found++;
        }
      } catch (err) {
        this.#opts.log.error({ root, err }, 'scan of staging dir failed; some staged blocks wait for the next start');
      }
    }
    this.#scanDone = true;
    if (found > 0) this.#opts.log.info({ blocks: found }, 'staged blocks from a previous run queued for upload');
    if (this.#pending.size === 0) for (const w of this.#drainWaiters.splice(0)) w.resolve();
  }
}
