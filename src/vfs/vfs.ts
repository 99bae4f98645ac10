/**
 * Vfs: the one API the NFS and WebDAV servers call (STYLE.md §1, DESIGN.md). It composes Meta
 * (namespace, attributes, slice lists, permission checks — never duplicated here) with a ChunkStore
 * (blocks), and owns open handles, writers (writer.ts, spec §E.1), readers (reader.ts, §E.2),
 * compaction (§E.3) and data release (§D.5, §E.5). Every operation writes one debug access-log line
 * in #logOp (STYLE.md §8) and fails with FsError only (an aborted call rejects with the signal's reason).
 *
 * Consistency: close-to-open (spec §F). open() and getattr() fetch attributes from meta and drop
 * cached slice lists when another writer changed the file. Data written through this Vfs is read
 * back by this Vfs at once without a flush: read() lays the file's uncommitted writes over the
 * committed slices, and lengths include uncommitted writes.
 * Lock order: an inode lock (locks.ts) is taken before any writer or meta call of that file;
 * several only through InodeLocks.withLocks.
 */
import { BufferBudget, DEFAULT_BUFFER_BYTES } from '../cache/buffer-budget.js';
import { DEFAULT_READ_AHEAD_BLOCKS, ReadAheadLimit } from '../cache/read-ahead.js';
import { SYNC_COMPACTION_RECORDS, type CreateOptions, type Meta, type NewEntry, type ReaddirOptions, type Removed } from '../meta/meta.js';
import { printableName } from '../meta/names.js';
import {
  type Attr, type ChunkIndex, type Credentials, type DavLockTable, type DirEntry, FileType, type Ino, type SetAttrRequest, type SliceRecord,
  type StatFs, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, toChunkIndex,
} from '../meta/types.js';
import { logger as rootLogger, type Logger } from '../observability/logger.js';
import { Errno, FsError, isFsError } from '../util/errno.js';
import type { ChunkStore } from './chunk-store.js';
import { Compactor } from './compaction.js';
import { InodeLocks } from './locks.js';
import { Reader, SequentialReads, SliceCache } from './reader.js';
import type { Entry, FileHandle, OpenedFile, OpenOptions } from './types.js';
import { MAX_FILE_SIZE } from './types.js';
import { NextReads, sameVersion, type FileVersion } from './next-read.js';
import type { BufferPool } from '../util/buffer-pool.js';
import { WriterPool, type PendingPiece } from './writer.js';

export interface VfsOptions {
  /** The global buffer budget for write buffers and compaction (default: a new one of `bufferBytes`). */
  budget?: BufferBudget;
  /** Size of a budget created here (default 300 MiB, JuiceFS --buffer-size). */
  bufferBytes?: number;
  /** Freeze a slice this long after it started (default 5000). */
  flushAgeMs?: number;
  /** Freeze a slice idle this long (default 1000). */
  flushIdleMs?: number;
  /** Uncommitted slices per file before writes wait (default 800). */
  maxPendingSlices?: number;
  /** Block bytes one file may have uploading before its next write waits (default 16 blocks, one block less than the budget). */
  maxFileUploadBytes?: number;
  /** Read-ahead window of one reader (default 32 blocks; 0 disables read-ahead). */
  maxReadAheadBytes?: number;
  /** Read-ahead bytes held over all readers (default half the buffer budget); they are also taken from the budget. */
  readAheadTotalBytes?: number;
  /** Background compaction of fragmented chunks (default true). */
  compaction?: boolean;
  /** Period of meta.releaseDeletedFiles() in the background (default 60 s; 0 disables). */
  releaseIntervalMs?: number;
  logger?: Logger;
}

export interface CloseOptions {
  /** Also wait until write-back blocks staged so far are uploaded (default false: they upload at the next start). */
  drain?: boolean;
  /** Stops waiting for the drain. */
  signal?: AbortSignal;
}

/** Per-inode state shared by the open handles of one file. */
interface FileState {
  cache: SliceCache;
  /** Attributes as last seen from meta (open, getattr, our own commits). */
  attr: Attr;
  /** When `attr` was last known current (performance.now()), and #namespaceChanges then (recentAttr). */
  attrAt: number;
  attrNamespace: number;
  handles: number;
  /** Writes issued to the file through this Vfs (see FileVersion). */
  writes: number;
}

interface HandleState {
  handle: FileHandle;
  readAhead: SequentialReads | undefined;
  /** The range read ahead for readPooled; only on handles without block read-ahead. */
  next: NextReads | undefined;
}

/** What readPooled resolves to. */
export interface PooledRead {
  /** Taken from the pool; the caller gives it back once nothing refers to it. */
  buffer: Buffer;
  /** Bytes read into the start of `buffer` (short only at the end of the file). */
  count: number;
}

export class Vfs {
  readonly #meta: Meta;
  readonly #store: ChunkStore;
  readonly #log: Logger;
  readonly #budget: BufferBudget;
  readonly #locks = new InodeLocks();
  readonly #writers: WriterPool;
  readonly #reader: Reader;
  readonly #compactor: Compactor | undefined;
  readonly #readAheadLimit: ReadAheadLimit;
  readonly #maxReadAheadBytes: number;
  readonly #files = new Map<Ino, FileState>();
  readonly #handles = new Map<number, HandleState>();
  /** Reads ahead for readPooled under way (settle, close). */
  readonly #readingNext = new Set<Promise<void>>();
  #nextFh = 1;
  /**
   * Unlinks and renames made through this Vfs (a link refreshes its inode's state itself): they
   * change the ctime and nlink of inodes whose FileState they do not update, so attributes cached
   * before one are not recent (recentAttr).
   */
  #namespaceChanges = 0;
  #releaseTimer: NodeJS.Timeout | undefined;
  #releasing: Promise<void> | undefined;
  #closed = false;

  constructor(meta: Meta, store: ChunkStore, opts: VfsOptions = {}) {
    this.#meta = meta;
    this.#store = store;
    this.#log = (opts.logger ?? rootLogger).child({ module: 'vfs' });
    this.#budget = opts.budget ?? new BufferBudget(opts.bufferBytes ?? DEFAULT_BUFFER_BYTES);
    const B = store.blockSizeBytes;
    this.#maxReadAheadBytes = opts.maxReadAheadBytes ?? DEFAULT_READ_AHEAD_BLOCKS * B;
    this.#readAheadLimit = new ReadAheadLimit(opts.readAheadTotalBytes ?? Math.floor(this.#budget.capacityBytes / 2), this.#budget);
    this.#writers = new WriterPool({
      meta, store, budget: this.#budget, log: this.#log,
      committed: (ino, indx, record, attr) => this.#committed(ino, indx, record, attr),
    }, {
      ...(opts.flushAgeMs === undefined ? {} : { flushAgeMs: opts.flushAgeMs }),
      ...(opts.flushIdleMs === undefined ? {} : { flushIdleMs: opts.flushIdleMs }),
      ...(opts.maxPendingSlices === undefined ? {} : { maxPendingSlices: opts.maxPendingSlices }),
      ...(opts.maxFileUploadBytes === undefined ? {} : { maxFileUploadBytes: opts.maxFileUploadBytes }),
    });
    if (opts.compaction ?? true) {
      this.#compactor = new Compactor({
        meta, store, budget: this.#budget, log: this.#log,
        compacted: (ino) => this.#files.get(ino)?.cache.invalidate(),
      });
    }
    this.#reader = new Reader({
      meta, store, log: this.#log,
      fragmented: (ino, indx, records) => {
        if (this.#writers.get(ino) === undefined) this.#compactor?.schedule(ino, indx, records);
      },
    });
    meta.onDeleteSlice((id, size) => store.deleteSlice(id, size));
    // the list length that triggers compaction is counted in meta, over every writer of the chunk (spec §B.12)
    meta.onCompactionDue((ino, indx, records) => records >= SYNC_COMPACTION_RECORDS
      ? this.#compactor?.compactNow(ino, indx)
      : this.#compactor?.schedule(ino, indx, records));
    const releaseMs = opts.releaseIntervalMs ?? 60_000;
    if (releaseMs > 0) {
      this.#releaseTimer = setInterval(() => void this.#releaseDeleted(), releaseMs);
      this.#releaseTimer.unref();
    }
  }

  /** The volume block size in bytes. */
  get blockSizeBytes(): number {
    return this.#store.blockSizeBytes;
  }

  /** The buffer budget writers and read-ahead draw from (metrics, leak checks in tests). */
  get bufferBudget(): BufferBudget {
    return this.#budget;
  }

  /** Open handles (leak checks in tests, metrics). */
  get openHandles(): number {
    return this.#handles.size;
  }

  /** Files with buffered, uploading or failed-and-unreported writes. */
  get pendingFiles(): number {
    return this.#writers.size;
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs one operation: the access-log line, and FsError-only failures. */
  async #op<T>(op: string, ctx: Credentials, args: Record<string, unknown>, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const start = process.hrtime.bigint();
    try {
      const r = await fn();
      this.#logOp(op, ctx, args, start, undefined);
      return r;
    } catch (err) {
      const e = this.#fsError(err, op, signal);
      this.#logOp(op, ctx, args, start, e);
      throw e;
    }
  }

  /** The access log (STYLE.md §8): the one place that writes a line per vfs operation. */
  #logOp(op: string, ctx: Credentials, args: Record<string, unknown>, start: bigint, err: unknown): void {
    if (!this.#log.isLevelEnabled('debug')) return;
    const line: Record<string, unknown> = { op, uid: ctx.uid, gid: ctx.gid };
    for (const [k, v] of Object.entries(args)) {
      line[k] = Buffer.isBuffer(v) ? printableName(v) : typeof v === 'bigint' ? String(v) : v;
    }
    if (err !== undefined) line['errno'] = isFsError(err) ? err.code : 'ABORTED';
    line['ms'] = Number(process.hrtime.bigint() - start) / 1e6;
    this.#log.debug(line, op);
  }

  /** FsError as is, an abort reason as is; anything else becomes EIO, logged once with its stack. */
  #fsError(err: unknown, op: string, signal: AbortSignal | undefined): unknown {
    if (isFsError(err)) return err;
    if (signal?.aborted === true && err === signal.reason) return err;
    this.#log.error({ err, op }, 'unexpected error in a vfs operation');
    return new FsError(Errno.EIO, op, { cause: err });
  }

  #checkOpen(): void {
    if (this.#closed) throw new FsError(Errno.EIO, 'vfs is closed');
  }

  /** Attributes as protocols see them: file lengths include writes not committed yet. */
  #visible(ino: Ino, attr: Attr): Attr {
    if (attr.type !== FileType.File) return attr;
    const pending = this.#writers.pendingEnd(ino);
    return pending > attr.length ? { ...attr, length: pending } : attr;
  }

  /** Records fresh attributes of `ino`; cached slice lists go when another writer changed the file (spec §F). */
  #seen(ino: Ino, attr: Attr): void {
    const st = this.#files.get(ino);
    if (st === undefined) return;
    const old = st.attr;
    if (old.mtime !== attr.mtime || old.mtimeNs !== attr.mtimeNs || old.length !== attr.length) st.cache.invalidate();
    this.#current(st, attr);
  }

  /** `attr` is what meta holds for the file now (read from it, or left so by our own change). */
  #current(st: FileState, attr: Attr): void {
    st.attr = attr;
    st.attrAt = performance.now();
    st.attrNamespace = this.#namespaceChanges;
  }

  /** A slice of ours is in meta: refresh what we cache. */
  #committed(ino: Ino, indx: ChunkIndex, _record: SliceRecord, attr: Attr): void {
    const st = this.#files.get(ino);
    if (st === undefined) return;
    st.cache.invalidate(indx);
    // replies of concurrent commits (other chunks) may arrive out of order; commits only grow the file
    this.#current(st, attr.length >= st.attr.length ? attr : { ...attr, length: st.attr.length });
  }

  #handle(h: FileHandle): HandleState {
    const hs = this.#handles.get(h.fh);
    if (hs === undefined || hs.handle.ino !== h.ino) throw new FsError(Errno.EBADF, `file handle ${h.fh}`);
    return hs;
  }

  /** Waits until every write of `ino` issued so far has been placed in a slice writer, then freezes them. */
  async #barrier(ino: Ino): Promise<void> {
    await this.#locks.with(ino, async () => this.#writers.get(ino)?.freezeAll());
  }

  /** One run of meta.releaseDeletedFiles() (spec §E.5); runs never overlap. A read-only volume stops the timer. */
  async #releaseDeleted(final = false): Promise<void> {
    if (this.#releasing !== undefined || (this.#closed && !final)) return;
    this.#releasing = this.#meta.releaseDeletedFiles()
      .then((n) => { if (n > 0) this.#log.debug({ files: n }, 'released deleted files'); })
      .catch((err: unknown) => {
        if (isFsError(err, Errno.EROFS)) clearInterval(this.#releaseTimer);
        else this.#log.warn({ err }, 'releasing deleted files failed');
      })
      .finally(() => { this.#releasing = undefined; });
    await this.#releasing;
  }

  // ---------------------------------------------------------------- namespace

  lookup(ctx: Credentials, parent: Ino, name: Buffer): Promise<Entry> {
    return this.#op('lookup', ctx, { parent, name }, async () => {
      const e = await this.#meta.lookup(ctx, parent, name);
      this.#seen(e.ino, e.attr);
      return { ino: e.ino, attr: this.#visible(e.ino, e.attr) };
    });
  }

  getattr(ctx: Credentials, ino: Ino): Promise<Attr> {
    return this.#op('getattr', ctx, { ino }, async () => {
      const attr = await this.#meta.getattr(ino);
      this.#seen(ino, attr);
      return this.#visible(ino, attr);
    });
  }

  /**
   * For the data path (NFS READ and WRITE, one call per MiB or less), no I/O: the attributes of a
   * file open here as this Vfs read them from meta, or left them by its own change, less than
   * `maxAgeMs` ago (and before no unlink or rename through it since); else undefined, and the
   * caller reads them (getattr). What another appliance or JuiceFS client changed in the file may
   * show up to `maxAgeMs` late to a caller that uses these, as in a JuiceFS mount's attribute
   * cache; getattr itself stays fresh, so close-to-open consistency (GETATTR at open) holds.
   */
  recentAttr(ino: Ino, maxAgeMs: number): Attr | undefined {
    const st = this.#files.get(ino);
    if (st === undefined || st.attrNamespace !== this.#namespaceChanges || performance.now() - st.attrAt >= maxAgeMs) return undefined;
    return this.#visible(ino, st.attr);
  }

  /** True while a handle of the file is open here (its attributes and slice lists are cached). */
  isOpen(ino: Ino): boolean {
    return this.#files.has(ino);
  }

  /** chmod/chown/utimes/flags, and truncate when `req.size` is set (pending writes are committed first). */
  setattr(ctx: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr> {
    return this.#op('setattr', ctx, { ino, ...req }, async () => {
      this.#checkOpen();
      if (req.size === undefined) {
        const attr = await this.#meta.setattr(ctx, ino, req);
        this.#seen(ino, attr);
        return this.#visible(ino, attr);
      }
      return this.#locks.with(ino, async () => {
        // writes issued before the truncate must not land after its hole records (spec §I)
        await this.#writers.settle(ino);
        const attr = await this.#meta.setattr(ctx, ino, req);
        const st = this.#files.get(ino);
        st?.cache.invalidate();
        if (st !== undefined) this.#current(st, attr);
        return this.#visible(ino, attr);
      });
    });
  }

  /**
   * EACCES unless every bit of `mask` (MODE_READ|MODE_WRITE|MODE_EXEC) is granted. `attr`: the
   * inode's attributes as the caller read them from meta just now, checked instead of read again.
   */
  access(ctx: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void> {
    return this.#op('access', ctx, { ino, mask }, () => this.#meta.access(ctx, ino, mask, attr));
  }

  /**
   * A regular file; with `exclusive` false an existing file is returned (`created` false). With
   * `deferDurability` (a WebDAV PUT, which answers only after fsync) a new file is returned once
   * committed: the fsync of one of its handles makes it durable.
   */
  create(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number, exclusive = true, opts?: CreateOptions): Promise<NewEntry & { created: boolean }> {
    return this.#op('create', ctx, { parent, name, mode, exclusive }, async () => {
      this.#checkOpen();
      const r = await this.#meta.create(ctx, parent, name, mode, umask, exclusive, opts);
      return { ...r, attr: this.#visible(r.ino, r.attr) };
    });
  }

  mknod(ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number, rdev = 0): Promise<NewEntry> {
    return this.#op('mknod', ctx, { parent, name, type, mode, rdev }, () => this.#meta.mknod(ctx, parent, name, type, mode, umask, rdev));
  }

  mkdir(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number): Promise<NewEntry> {
    return this.#op('mkdir', ctx, { parent, name, mode }, () => this.#meta.mkdir(ctx, parent, name, mode, umask));
  }

  symlink(ctx: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry> {
    return this.#op('symlink', ctx, { parent, name, target }, () => this.#meta.symlink(ctx, parent, name, target));
  }

  readlink(ctx: Credentials, ino: Ino): Promise<Buffer> {
    return this.#op('readlink', ctx, { ino }, () => this.#meta.readlink(ino));
  }

  /** A hard link `parent/name` to `ino`; returns the inode's new attributes. */
  link(ctx: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr> {
    return this.#op('link', ctx, { ino, parent, name }, async () => {
      const attr = await this.#meta.link(ctx, ino, parent, name);
      this.#seen(ino, attr);
      return this.#visible(ino, attr);
    });
  }

  /** Removes a name; a file open through this Vfs stays readable until its last release(). */
  unlink(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
    return this.#op('unlink', ctx, { parent, name }, async () => {
      const removed = await this.#meta.unlink(ctx, parent, name);
      this.#namespaceChanges++; // the unlinked inode's nlink and ctime (see recentAttr)
      return removed;
    });
  }

  rmdir(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed> {
    return this.#op('rmdir', ctx, { parent, name }, () => this.#meta.rmdir(ctx, parent, name));
  }

  /** Flags RENAME_NOREPLACE / RENAME_EXCHANGE; a replaced file open here stays readable until released. */
  rename(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags = 0): Promise<Entry> {
    return this.#op('rename', ctx, { srcParent, srcName, dstParent, dstName, flags }, async () => {
      const e = await this.#meta.rename(ctx, srcParent, srcName, dstParent, dstName, flags);
      this.#namespaceChanges++; // the ctime of what moved, the nlink of what it replaced (see recentAttr)
      return { ino: e.ino, attr: this.#visible(e.ino, e.attr) };
    });
  }

  /**
   * Pull-based listing (fetches the next page only when read), resumable with the cookies of
   * meta (`opts.after`); with `opts.plus` entries carry attributes (lengths include pending writes).
   * The access-log line is written when the caller stops reading.
   */
  readdir(ctx: Credentials, ino: Ino, opts: ReaddirOptions = {}): AsyncIterable<DirEntry> {
    const visible = (e: DirEntry): DirEntry => (e.attr === undefined ? e : { ...e, attr: this.#visible(e.ino, e.attr) });
    return this.#listDir(ctx, ino, opts, this.#meta.readdir(ctx, ino, opts), () => 1, visible);
  }

  /**
   * readdir by page (never empty) for long listings: no promise per entry, and the next page is
   * fetched from meta while the caller handles the current one (two pages in memory at most).
   */
  readdirPages(ctx: Credentials, ino: Ino, opts: ReaddirOptions = {}): AsyncIterable<readonly DirEntry[]> {
    const visible = (page: readonly DirEntry[]): readonly DirEntry[] => {
      // meta answers fresh entries: the visible length is set in place
      for (const e of page) if (e.attr !== undefined) e.attr = this.#visible(e.ino, e.attr);
      return page;
    };
    return this.#listDir(ctx, ino, opts, this.#meta.readdirPages(ctx, ino, opts), (page) => page.length, visible);
  }

  /** The items of a meta listing (entries or pages of them) with visible lengths; logged once, when the caller stops. */
  #listDir<T>(ctx: Credentials, ino: Ino, opts: ReaddirOptions, source: AsyncIterable<T>, entries: (item: T) => number, visible: (item: T) => T): AsyncIterable<T> {
    const log = (n: number, start: bigint, failure: unknown): void => {
      this.#logOp('readdir', ctx, { ino, after: opts.after ?? 0n, plus: opts.plus ?? false, entries: n }, start, failure);
    };
    const fsError = (err: unknown): unknown => this.#fsError(err, 'readdir', undefined);
    return {
      async *[Symbol.asyncIterator]() {
        const start = process.hrtime.bigint();
        let failure: unknown;
        let n = 0;
        try {
          for await (const item of source) {
            n += entries(item);
            yield visible(item);
          }
        } catch (err) {
          failure = fsError(err);
          throw failure;
        } finally {
          log(n, start, failure);
        }
      },
    };
  }

  statfs(ctx: Credentials, ino: Ino): Promise<StatFs> {
    return this.#op('statfs', ctx, { ino }, () => this.#meta.statfs(ctx, ino));
  }

  getxattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<Buffer> {
    return this.#op('getxattr', ctx, { ino, name }, () => this.#meta.getxattr(ctx, ino, name));
  }
  /** getxattr of one name for many inodes in one metadata round-trip; null where absent (Meta.getxattrs). */
  getxattrs(ctx: Credentials, inos: readonly Ino[], name: Buffer): Promise<(Buffer | null)[]> {
    return this.#op('getxattrs', ctx, { count: inos.length, name }, () => this.#meta.getxattrs(ctx, inos, name));
  }


  /** flags: 0 any, 1 create only (EEXIST), 2 replace only (ENODATA). */
  setxattr(ctx: Credentials, ino: Ino, name: Buffer, value: Buffer, flags = 0): Promise<void> {
    return this.#op('setxattr', ctx, { ino, name, flags }, () => this.#meta.setxattr(ctx, ino, name, value, flags));
  }

  listxattr(ctx: Credentials, ino: Ino): Promise<Buffer[]> {
    return this.#op('listxattr', ctx, { ino }, () => this.#meta.listxattr(ctx, ino));
  }

  removexattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<void> {
    return this.#op('removexattr', ctx, { ino, name }, () => this.#meta.removexattr(ctx, ino, name));
  }

  // ---------------------------------------------------------------- WebDAV locks

  /** The WebDAV lock table, stored in the metadata engine under Ferry's own key or table. */
  readDavLocks(): Promise<DavLockTable> {
    return this.#op('readDavLocks', ROOT_CREDENTIALS, {}, () => this.#meta.readDavLocks());
  }

  /** The lock table's version alone: a copy read at this version is still current. */
  readDavLocksVersion(): Promise<number> {
    return this.#op('readDavLocksVersion', ROOT_CREDENTIALS, {}, () => this.#meta.readDavLocksVersion());
  }

  /** Changes the lock table only while it is still at `version` (compare and set); false when it moved on. */
  updateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean> {
    return this.#op('updateDavLocks', ROOT_CREDENTIALS, { version }, () => this.#meta.updateDavLocks(version, put, remove));
  }

  // ---------------------------------------------------------------- open files

  /**
   * Opens regular file `ino` for MODE_READ and/or MODE_WRITE (permission checks in meta; EISDIR for
   * directories, EINVAL for other non-files). Attributes come fresh
   * from meta (close-to-open): cached slice lists are dropped if the file changed elsewhere.
   */
  open(ctx: Credentials, ino: Ino, mask: number, opts: OpenOptions = {}): Promise<OpenedFile> {
    return this.#op('open', ctx, { ino, mask, truncate: opts.truncate ?? false }, async () => {
      this.#checkOpen();
      if ((mask & (MODE_READ | MODE_WRITE)) === 0 || (mask & ~(MODE_READ | MODE_WRITE)) !== 0) throw new FsError(Errno.EINVAL, `open mask ${mask}`);
      const { attr } = await this.#meta.open(ctx, ino, mask, opts.known);
      if (attr.type !== FileType.File) {
        await this.#meta.release(ino);
        throw new FsError(attr.type === FileType.Directory ? Errno.EISDIR : Errno.EINVAL, `inode ${ino} is not a regular file`);
      }
      let st = this.#files.get(ino);
      if (st === undefined) {
        st = { cache: new SliceCache(this.#meta, ino), attr, attrAt: performance.now(), attrNamespace: this.#namespaceChanges, handles: 0, writes: 0 };
        this.#files.set(ino, st);
      } else {
        this.#seen(ino, attr);
      }
      st.handles++;
      const handle: FileHandle = { fh: this.#nextFh++, ino, mask };
      const readAhead = this.#maxReadAheadBytes >= this.blockSizeBytes
        ? new SequentialReads(this.blockSizeBytes, this.#maxReadAheadBytes, this.#readAheadLimit)
        : undefined;
      this.#handles.set(handle.fh, { handle, readAhead, next: readAhead === undefined ? new NextReads(this.#readAheadLimit) : undefined });
      let current = attr;
      if (opts.truncate === true && (mask & MODE_WRITE) !== 0) {
        try {
          current = await this.setattr(ctx, ino, { size: 0 });
        } catch (err) {
          await this.#dropHandle(handle);
          throw err;
        }
      }
      return { handle, attr: this.#visible(ino, current) };
    }, opts.signal);
  }

  /**
   * Closes a handle. A writable handle flushes the file first (the flush's failure is returned,
   * after the handle is gone). The last release of a file unlinked while open deletes it.
   */
  release(ctx: Credentials, handle: FileHandle): Promise<void> {
    return this.#op('release', ctx, { ino: handle.ino, fh: handle.fh }, async () => {
      this.#handle(handle);
      let failure: unknown;
      if ((handle.mask & MODE_WRITE) !== 0) {
        try {
          await this.#barrier(handle.ino);
          await this.#writers.flush(handle.ino);
        } catch (err) {
          failure = err;
        }
      }
      await this.#dropHandle(handle);
      if (failure !== undefined) throw failure;
    });
  }

  async #dropHandle(handle: FileHandle): Promise<void> {
    const hs = this.#handles.get(handle.fh);
    if (hs === undefined) return;
    this.#handles.delete(handle.fh);
    hs.readAhead?.clear();
    hs.next?.clear();
    const st = this.#files.get(handle.ino);
    if (st !== undefined && --st.handles <= 0) this.#files.delete(handle.ino);
    await this.#meta.release(handle.ino);
  }

  /**
   * Bytes [offset, offset+length) of a file: short at the end of the file, empty past it. `target`
   * is an open handle (opened with MODE_READ), or an inode, then checked with meta.access(MODE_READ).
   * A read sees every write issued before it: uncommitted writes are laid over the committed slices.
   */
  async read(ctx: Credentials, target: FileHandle | Ino, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    let buf: Buffer | undefined;
    const n = await this.#read(ctx, target, offset, length, (fileEnd) => (buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, fileEnd - offset)))), signal);
    return buf === undefined ? Buffer.alloc(0) : buf.subarray(0, n);
  }

  /**
   * As read(), into `dest` (bytes [offset, offset+dest.length) copied to its start, holes zeroed)
   * instead of a new buffer, so protocols can reuse their buffers; resolves to the count read.
   */
  readInto(ctx: Credentials, target: FileHandle | Ino, offset: number, dest: Buffer, signal?: AbortSignal): Promise<number> {
    return this.#read(ctx, target, offset, dest.length, () => dest, signal);
  }

  /**
   * As readInto on an open handle, into a buffer taken from `pool` (`length` at most its size), which
   * the caller gives back once done with it (its reply sent): resolves to that buffer and the count
   * read into its start. When the store reads in place (the handle has no block read-ahead) and
   * the handle is read in order one request at a time, the same-sized range after this one is read
   * into another buffer of `pool` once this call's continuation has run (its reply written), so the
   * next call finds its bytes there (next-read.ts). They are used only while the file is unchanged
   * as far as this Vfs knows, the rule of its cached slice lists: no write through it since, no
   * commit, truncate or compaction, and no change by another writer shown by getattr or open.
   */
  readPooled(ctx: Credentials, handle: FileHandle, offset: number, length: number, pool: BufferPool, signal?: AbortSignal): Promise<PooledRead> {
    return this.#op('read', ctx, { ino: handle.ino, offset, length }, async () => {
      if (length > pool.size) throw new FsError(Errno.EINVAL, `read of ${length} bytes into pool buffers of ${pool.size}`);
      const next = this.#handle(handle).next;
      next?.begin();
      const ahead = next?.take(offset, length, this.#version(handle.ino));
      const buffer = ahead?.buffer ?? pool.take();
      let count: number;
      try {
        const got = await ahead?.done;
        count = got !== undefined && ahead !== undefined && sameVersion(ahead.version, this.#version(handle.ino))
          ? got
          : await this.#readNow(ctx, handle, offset, length, () => buffer, signal);
      } catch (err) {
        next?.end(offset, length, 0);
        pool.give(buffer);
        throw err;
      }
      if (next?.end(offset, length, count) === true) this.#readNext(ctx, handle, next, offset + count, length, pool);
      return { buffer, count };
    }, signal);
  }

  /** Starts reading [offset, offset+length) of a handle ahead into a pool buffer (see readPooled). */
  #readNext(ctx: Credentials, handle: FileHandle, next: NextReads, offset: number, length: number, pool: BufferPool): void {
    const st = this.#files.get(handle.ino);
    if (st === undefined || offset >= this.#visible(handle.ino, st.attr).length || !next.reserve(length)) return;
    const buffer = pool.take();
    const version = this.#version(handle.ino);
    // after the caller's continuation (the reply's socket write), not before it
    const done = new Promise((resolve) => setImmediate(resolve))
      .then(() => this.#readNow(ctx, handle, offset, length, () => buffer))
      .catch((err: unknown) => {
        this.#log.debug({ err, ino: String(handle.ino), offset, length }, 'read of the next range failed');
        return undefined;
      });
    next.hold({ offset, length, version, pool, buffer, done });
    const tracked = done.then(() => { this.#readingNext.delete(tracked); });
    this.#readingNext.add(tracked);
  }

  /** What a read ahead of `ino` must still match when used: slice lists and writes as they are now. */
  #version(ino: Ino): FileVersion {
    const st = this.#files.get(ino);
    return { generation: st?.cache.generation ?? -1, writes: st?.writes ?? -1 };
  }

  /** read() and readInto(): `buffer` gets the file's current end (pending writes included) and gives the destination. */
  #read(ctx: Credentials, target: FileHandle | Ino, offset: number, length: number, buffer: (fileEnd: number) => Buffer, signal?: AbortSignal): Promise<number> {
    const ino = typeof target === 'bigint' ? target : target.ino;
    return this.#op('read', ctx, { ino, offset, length }, () => this.#readNow(ctx, target, offset, length, buffer, signal), signal);
  }

  /** #read without the access-log line. */
  async #readNow(ctx: Credentials, target: FileHandle | Ino, offset: number, length: number, buffer: (fileEnd: number) => Buffer, signal?: AbortSignal): Promise<number> {
    const ino = typeof target === 'bigint' ? target : target.ino;
    this.#checkOpen();
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new FsError(Errno.EINVAL, `read ${offset}+${length}`);
    }
    let readAhead: SequentialReads | undefined;
    if (typeof target !== 'bigint') {
      const hs = this.#handle(target);
      if ((target.mask & MODE_READ) === 0) throw new FsError(Errno.EBADF, `handle ${target.fh} is not open for reading`);
      readAhead = hs.readAhead;
    }
    // writes issued before this read are placed once the inode lock is ours (writes hold it)
    let pending: PendingPiece[] = [];
    let pendingEnd = 0;
    if (this.#writers.get(ino) !== undefined) {
      await this.#locks.with(ino, async () => {
        const w = this.#writers.get(ino);
        pending = w?.pending(offset, offset + length) ?? [];
        pendingEnd = w?.pendingEnd() ?? 0;
      });
    }
    const settled = Promise.all(pending.map((p) => p.data));
    settled.catch(() => undefined); // awaited below, unless the committed read fails first
    const st = this.#files.get(ino);
    let cache: SliceCache;
    let attr: Attr;
    if (st !== undefined) {
      cache = st.cache;
      attr = st.attr;
    } else {
      cache = new SliceCache(this.#meta, ino);
      attr = await this.#meta.getattr(ino);
    }
    if (typeof target === 'bigint') await this.#meta.access(ctx, ino, MODE_READ, attr);
    if (attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, `inode ${ino}`);
    if (attr.type !== FileType.File) throw new FsError(Errno.EINVAL, `inode ${ino} is not a regular file`);
    if (length === 0) return 0;
    const fileEnd = Math.max(attr.length, pendingEnd);
    const out = buffer(fileEnd);
    const n = await this.#reader.readInto(cache, fileEnd, offset, out.subarray(0, length), readAhead, signal);
    if (pending.length === 0) return n;
    const datas = await settled;
    pending.forEach((p, i) => datas[i]?.copy(out, p.offset - offset));
    return n;
  }

  /**
   * Buffers `data` at `offset` (handle opened with MODE_WRITE). Returns once the bytes are in a
   * write buffer (they become durable at flush/fsync/release); waits while the buffer budget is spent.
   * `data` is copied: the caller may reuse it once the promise settles.
   */
  write(ctx: Credentials, handle: FileHandle, offset: number, data: Buffer, signal?: AbortSignal): Promise<void> {
    return this.#op('write', ctx, { ino: handle.ino, offset, length: data.length }, async () => {
      this.#checkOpen();
      this.#handle(handle);
      if ((handle.mask & MODE_WRITE) === 0) throw new FsError(Errno.EBADF, `handle ${handle.fh} is not open for writing`);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new FsError(Errno.EINVAL, `write at ${offset}`);
      if (offset + data.length > MAX_FILE_SIZE) throw new FsError(Errno.EFBIG, `write up to ${offset + data.length}`);
      if (data.length === 0) return;
      try {
        await this.#locks.with(handle.ino, () => this.#writers.write(handle.ino, offset, data, signal));
      } finally {
        // once placed, so that a read ahead started before this write is known stale (next-read.ts)
        const st = this.#files.get(handle.ino);
        if (st !== undefined) st.writes++;
      }
    }, signal);
  }

  /** flush(2) semantics on close of a descriptor: the same durability point as fsync. */
  flush(ctx: Credentials, handle: FileHandle, signal?: AbortSignal): Promise<void> {
    return this.#op('flush', ctx, { ino: handle.ino, fh: handle.fh }, async () => {
      this.#handle(handle);
      await this.#durable(handle.ino, signal);
    }, signal);
  }

  /**
   * The durability point (fsync, NFS COMMIT, end of a WebDAV PUT): resolves only when every write
   * of the file issued before it has its blocks in the object store (or fsynced in write-back
   * staging) AND its slice record committed in meta. Rejects with a failure not reported before.
   * `target` may be a handle or just the inode (NFS COMMIT carries no open state). Resolves with
   * the file's attributes after that commit: as our own commits left them while the file is open
   * here (no meta read), else fresh from meta; lengths include writes issued since.
   */
  fsync(ctx: Credentials, target: FileHandle | Ino, signal?: AbortSignal): Promise<Attr> {
    const ino = typeof target === 'bigint' ? target : target.ino;
    return this.#op('fsync', ctx, { ino }, async () => {
      if (typeof target !== 'bigint') this.#handle(target);
      await this.#durable(ino, signal);
      const st = this.#files.get(ino);
      if (st !== undefined) return this.#visible(ino, st.attr);
      const attr = await this.#meta.getattr(ino);
      this.#seen(ino, attr);
      return this.#visible(ino, attr);
    }, signal);
  }

  async #durable(ino: Ino, signal: AbortSignal | undefined): Promise<void> {
    await this.#barrier(ino);
    await this.#writers.flush(ino, signal);
    await this.#meta.durable(); // a deferred create of the file (at once when nothing is deferred)
  }

  /**
   * Server-side copy of [srcOff, srcOff+length) of `src` to `dst` at `dstOff` (copy_file_range,
   * WebDAV COPY): commits both files' pending writes, then lets meta clone the slice references —
   * no data is copied and no object written. Returns the destination's attributes.
   */
  copyRange(ctx: Credentials, src: Ino, srcOff: number, dst: Ino, dstOff: number, length: number, signal?: AbortSignal): Promise<Attr> {
    return this.#op('copyRange', ctx, { src, srcOff, dst, dstOff, length }, async () => {
      this.#checkOpen();
      return this.#locks.withLocks([src, dst], async () => {
        await this.#writers.settle(src, signal);
        await this.#writers.settle(dst, signal);
        const attr = await this.#meta.cloneRange(ctx, src, srcOff, dst, dstOff, length);
        const st = this.#files.get(dst);
        st?.cache.invalidate();
        if (st !== undefined) this.#current(st, attr);
        return this.#visible(dst, attr);
      });
    }, signal);
  }

  /**
   * Compacts every chunk of a file now (`ferry compact`, tests); background compaction does the
   * same for fragmented chunks on its own. Returns how many chunks were rewritten.
   */
  compact(ctx: Credentials, ino: Ino, signal?: AbortSignal): Promise<number> {
    return this.#op('compact', ctx, { ino }, async () => {
      this.#checkOpen();
      const compactor = this.#compactor;
      if (compactor === undefined) throw new FsError(Errno.ENOTSUP, 'compaction is disabled');
      await this.#locks.with(ino, () => this.#writers.settle(ino, signal));
      let n = 0;
      for (const indx of await this.#meta.listChunks(ino)) {
        if (await compactor.compact(ino, toChunkIndex(indx), signal)) n++;
      }
      return n;
    }, signal);
  }

  /** Resolves when background compactions and read-ahead started so far have finished (tests, shutdown). */
  async settle(): Promise<void> {
    await this.#compactor?.idle();
    await this.#reader.settle();
    while (this.#readingNext.size > 0) await Promise.all([...this.#readingNext]);
  }

  /**
   * Flushes every file (failures are logged: there is nobody left to tell), releases handles still
   * open, stops compaction, read-ahead and the release timer, releases deleted files once more, and
   * optionally waits for write-back uploads. Does not close meta or the block cache (their owner does).
   */
  async close(opts: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    const ctx: Credentials = { uid: 0, gid: 0, gids: [] };
    await this.#op('close', ctx, { handles: this.#handles.size, files: this.#writers.size }, async () => {
      this.#closed = true;
      if (this.#releaseTimer !== undefined) clearInterval(this.#releaseTimer);
      for (const { ino, err } of await this.#writers.flushAll()) {
        this.#log.error({ err, ino: String(ino) }, 'writes lost at close');
      }
      this.#writers.close();
      for (const hs of [...this.#handles.values()]) {
        await this.#dropHandle(hs.handle).catch((err: unknown) => this.#log.warn({ err, ino: String(hs.handle.ino) }, 'release at close failed'));
      }
      await this.#compactor?.close();
      await this.#reader.settle();
      while (this.#readingNext.size > 0) await Promise.all([...this.#readingNext]);
      await this.#releasing;
      await this.#releaseDeleted(true);
      if (opts.drain === true) await this.#store.drain(opts.signal);
    }, opts.signal);
  }
}
