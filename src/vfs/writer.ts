/**
 * Write buffers that become slices (spec §E.1, DESIGN.md "Write path and durability").
 * A FileWriter keeps, per chunk, the slice writers not yet committed, in creation order. A write
 * goes to the newest open slice whose unflushed tail block it starts in (or whose end it starts
 * at), unless a newer slice overlaps it; otherwise it starts a new slice. Full blocks upload at
 * once; a slice is frozen by flush/fsync/close, the chunk end, age, idleness or buffer pressure,
 * then its tail block uploads and its record is committed, strictly in creation order per chunk.
 * Memory comes from ONE BufferBudget in 64 KiB pages; a write waits (a promise) while its file has
 * a window of block uploads in flight, then for its pages, before it touches any slice. It must never commit a slice before its blocks are durable, and
 * never leave the blocks of a slice whose commit was refused (spec §D.6).
 */
import type { BufferBudget } from '../cache/buffer-budget.js';
import type { Meta } from '../meta/meta.js';
import { now } from '../meta/time.js';
import { CHUNK_SIZE, type Attr, type ChunkIndex, type Ino, type SliceId, type SliceRecord, type Timespec, toChunkIndex } from '../meta/types.js';
import type { Logger } from '../observability/logger.js';
import { Errno, FsError, isFsError } from '../util/errno.js';
import type { ChunkStore } from './chunk-store.js';

/** Allocation unit of write buffers; every block size (≥ 64 KiB, a power of two) is a multiple. */
export const PAGE_BYTES = 64 * 1024;
/** Largest piece of a write that waits for budget at once. */
const MAX_WRITE_PIECE = 4 * 1024 * 1024;
/** Smallest buffer budget: one page of data plus the edges of a piece over a chunk boundary. */
export const MIN_BUDGET_PAGES = 4;
/** Open slice writers looked at behind the newest before older ones are frozen (spec §E.1). */
const CANDIDATES = 4;
/** Idle pages kept for reuse (32 MiB): a steady writer recycles its pages instead of leaving them to the GC. */
const MAX_IDLE_PAGES = 512;

/**
 * Pages whose block was copied out for upload, ready for the next write. A page's bytes below the
 * slice length are always written before they are read (slices have no gaps), so reused pages
 * need no clearing. Process-wide, bounded by MAX_IDLE_PAGES; pages are counted in the budget only
 * while a slice holds them.
 */
const idlePages: Buffer[] = [];
/** Full blocks one file may have uploading before its next write waits (64 MiB at the default 4 MiB). */
const FILE_UPLOAD_BLOCKS = 16;
/** Idle full-block buffers kept for reuse (8 blocks: 32 MiB at the default 4 MiB). */
const MAX_IDLE_BLOCKS = 8;

/**
 * Buffers of full blocks whose upload has settled, by block size: a sequential writer assembles
 * each block into one of them instead of a fresh allocation (large fresh buffers are what drives
 * the GC under write load). ChunkStore.putBlock keeps no reference to its data once it settles.
 */
const idleBlocks = new Map<number, Buffer[]>();

/**
 * Block buffers that open slices fill in place (their pages are views of it), so a full block
 * uploads without being copied. Only a sequential writer starts one (a write that reaches a block
 * start at the end of what its slice holds, not the slice's first block), and at most this many
 * at once over the process: the budget counts the pages written, not the rest of the block.
 */
const MAX_FILLING_BLOCKS = 16;
let fillingBlocks = 0;

function takeBlockBuffer(size: number): Buffer {
  return idleBlocks.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

function returnBlockBuffer(b: Buffer): void {
  let list = idleBlocks.get(b.length);
  if (list === undefined) idleBlocks.set(b.length, (list = []));
  if (list.length < MAX_IDLE_BLOCKS) list.push(b);
}

export interface WriterContext {
  /** Slice ids and slice commits (newSliceId, writeSlice). */
  meta: Meta;
  /** Where blocks go; putBlock resolves when a block is durable. */
  store: ChunkStore;
  /** The one budget every write buffer page is drawn from. */
  budget: BufferBudget;
  /** For failures nobody awaits (background commits). */
  log: Logger;
  /** Called after a slice record is in meta (cache invalidation, compaction trigger). */
  committed(ino: Ino, indx: ChunkIndex, record: SliceRecord, attr: Attr): void;
}

export interface WriterOptions {
  /** Freeze a slice this long after it started (default 5 s). */
  flushAgeMs?: number;
  /** Freeze a slice idle this long, and at least this old (default 1 s). */
  flushIdleMs?: number;
  /** Uncommitted slices per file before new writes wait for the oldest (default 800). */
  maxPendingSlices?: number;
  /**
   * Block bytes one file may have uploading before its next write waits for them (default 16
   * blocks, and one block less than the budget): one fast writer keeps enough uploads in flight
   * to fill the store without taking the whole budget, and its slices are not cut by buffer
   * pressure.
   */
  maxFileUploadBytes?: number;
}

/** Counts the block uploads of one file, so that its writes can wait for them (WriterOptions.maxFileUploadBytes). */
class UploadWindow {
  readonly #capBytes: number;
  #bytes = 0;
  #waiters: (() => void)[] = [];

  constructor(capBytes: number) {
    this.#capBytes = capBytes;
  }

  get full(): boolean {
    return this.#bytes >= this.#capBytes;
  }

  started(bytes: number): void {
    this.#bytes += bytes;
  }

  finished(bytes: number): void {
    this.#bytes -= bytes;
    if (this.full) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once uploads have finished below the cap (at once when they are). */
  room(signal?: AbortSignal): Promise<void> {
    if (!this.full) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push(resolve));
    return signal === undefined ? p : abortable(p, signal);
  }
}

/** Uncommitted bytes at a file offset, for reads of a file with buffered writes. */
export interface PendingPiece {
  offset: number;
  /** Buffered bytes (a copy), or a block range read back once its upload is durable. */
  data: Buffer | Promise<Buffer>;
}

/** Errnos after which a refused commit's blocks are deleted (spec §E.1). */
const REFUSED = new Set([Errno.ENOENT, Errno.ENOSPC, Errno.EDQUOT]);

/** Bytes granted by the budget for one write and not yet turned into pages. */
interface Credit {
  left: number;
}

/** One slice being written: pages of its bytes, its block uploads and its commit. */
class SliceWriter {
  readonly indx: ChunkIndex;
  /** Start of the slice inside the chunk. */
  readonly pos: number;
  readonly createdMs = Date.now();
  lastWriteMs = this.createdMs;
  /** Time of the last write: the file's mtime once committed (spec §E.1). */
  mtime: Timespec = now();
  /** Bytes written so far: [0, slen) of the slice is all data (writes never leave gaps). */
  slen = 0;
  frozen = false;
  /** Settles when the record is committed (or the slice failed). */
  done: Promise<void> = Promise.resolve();

  readonly #ctx: WriterContext;
  readonly #window: UploadWindow;
  readonly #id: Promise<SliceId>;
  readonly #blockBytes: number;
  readonly #pages: (Buffer | undefined)[] = []; // by slice offset / PAGE_BYTES; their budget returns when their block is uploaded
  readonly #filling: (Buffer | undefined)[] = []; // by block index: the pooled buffer its pages are views of (MAX_FILLING_BLOCKS)
  #nextUpload = 0; // blocks [0, nextUpload) are handed to the store
  readonly #uploads: Promise<void>[] = [];
  readonly #sealed: Promise<void>;
  #seal: () => void = () => undefined;

  constructor(ctx: WriterContext, window: UploadWindow, indx: ChunkIndex, pos: number) {
    this.#ctx = ctx;
    this.#window = window;
    this.indx = indx;
    this.pos = pos;
    this.#blockBytes = ctx.store.blockSizeBytes;
    this.#id = ctx.meta.newSliceId();
    this.#id.catch(() => undefined); // reported through the uploads and the commit
    this.#sealed = new Promise((r) => { this.#seal = r; });
  }

  /** Unflushed window of spec §E.1: [pos + floor(slen/B)·B, pos + slen] in chunk offsets. */
  accepts(chunkOff: number): boolean {
    return !this.frozen && chunkOff >= this.pos + this.#nextUpload * this.#blockBytes && chunkOff <= this.pos + this.slen;
  }

  overlaps(chunkOff: number, len: number): boolean {
    return chunkOff < this.pos + this.slen && chunkOff + len > this.pos;
  }

  /** Copies `data` to chunk offset `chunkOff` (accepted by accepts()); pages come from `credit`. */
  write(chunkOff: number, data: Buffer, credit: Credit): void {
    let at = chunkOff - this.pos;
    let src = 0;
    while (src < data.length) {
      const pi = Math.floor(at / PAGE_BYTES);
      const inPage = at - pi * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, data.length - src);
      let page = this.#pages[pi];
      if (page === undefined) {
        if (credit.left < PAGE_BYTES) throw new FsError(Errno.EIO, 'write credit exhausted');
        credit.left -= PAGE_BYTES;
        page = this.#newPage(pi, at);
        this.#pages[pi] = page;
      }
      data.copy(page, inPage, src, src + n);
      src += n;
      at += n;
    }
    this.slen = Math.max(this.slen, at);
    this.lastWriteMs = Date.now();
    this.mtime = now();
    while ((this.#nextUpload + 1) * this.#blockBytes <= this.slen) this.#upload(this.#blockBytes);
    if (this.pos + this.slen >= CHUNK_SIZE) this.freeze();
  }

  /**
   * The slice's bytes inside chunk range [from, to), at chunk offsets: buffered pages are copied
   * now; blocks already handed to the store are read back from it once their upload is durable
   * (their pages are gone). Every promise returned is awaited by the caller.
   */
  pieces(from: number, to: number): { chunkOff: number; data: Buffer | Promise<Buffer> }[] {
    const start = Math.max(from, this.pos);
    const end = Math.min(to, this.pos + this.slen);
    const out: { chunkOff: number; data: Buffer | Promise<Buffer> }[] = [];
    const B = this.#blockBytes;
    const uploadedEnd = this.pos + Math.min(this.slen, this.#nextUpload * B);
    // a handed-out block is full, or the frozen slice's tail: its key length follows from slen now
    const size = this.slen;
    for (let at = start; at < Math.min(end, uploadedEnd);) {
      const index = Math.floor((at - this.pos) / B);
      const stop = Math.min(end, uploadedEnd, this.pos + (index + 1) * B);
      const upload = this.#uploads[index];
      const range = { offset: at - this.pos - index * B, length: stop - at };
      out.push({ chunkOff: at, data: (async () => {
        await upload;
        return this.#ctx.store.readBlock(await this.#id, size, index, range);
      })() });
      at = stop;
    }
    for (let at = Math.max(start, uploadedEnd); at < end;) {
      const pi = Math.floor((at - this.pos) / PAGE_BYTES);
      const inPage = at - this.pos - pi * PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, end - at);
      const page = this.#pages[pi];
      if (page === undefined) throw new FsError(Errno.EIO, `slice buffer page ${pi} missing`);
      out.push({ chunkOff: at, data: Buffer.from(page.subarray(inPage, inPage + n)) });
      at += n;
    }
    return out;
  }

  /** No more data: uploads the tail block and lets the commit proceed. Idempotent. */
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    const tail = this.slen - this.#nextUpload * this.#blockBytes;
    if (tail > 0) this.#upload(tail);
    this.#seal();
  }

  /**
   * The buffer for slice page `pi`, first written at slice offset `at` (`at` >= slen: the write
   * extends the slice there): a view of its block's
   * filling buffer when the block has one, or starts one (see MAX_FILLING_BLOCKS); else a loose page.
   */
  #newPage(pi: number, at: number): Buffer {
    const perBlock = this.#blockBytes / PAGE_BYTES;
    const bi = Math.floor(pi / perBlock);
    let block = this.#filling[bi];
    if (block === undefined && perBlock > 1 && pi % perBlock === 0 && at >= this.slen && at > 0 && fillingBlocks < MAX_FILLING_BLOCKS) {
      block = takeBlockBuffer(this.#blockBytes);
      this.#filling[bi] = block;
      fillingBlocks++;
    }
    if (block === undefined) return idlePages.pop() ?? Buffer.allocUnsafe(PAGE_BYTES);
    const start = (pi % perBlock) * PAGE_BYTES;
    return block.subarray(start, start + PAGE_BYTES);
  }

  /** Uploads block #nextUpload of `len` bytes from its pages, then returns their budget. */
  #upload(len: number): void {
    const index = this.#nextUpload++;
    const perBlock = this.#blockBytes / PAGE_BYTES;
    const first = index * perBlock;
    const count = Math.ceil(len / PAGE_BYTES);
    const pages: Buffer[] = [];
    for (let i = first; i < first + count; i++) {
      const p = this.#pages[i];
      if (p === undefined) throw new FsError(Errno.EIO, `slice buffer page ${i} missing`);
      pages.push(p);
      this.#pages[i] = undefined;
    }
    // a filling buffer already holds the pages that are its views; a full block otherwise goes
    // through a pooled buffer too, returned once the store is done with it
    const filling = this.#filling[index];
    if (filling !== undefined) {
      this.#filling[index] = undefined;
      fillingBlocks--;
    }
    const pooled = filling ?? (len === this.#blockBytes ? takeBlockBuffer(len) : undefined);
    const data = pooled === undefined ? Buffer.allocUnsafe(len) : pooled.subarray(0, len);
    let at = 0;
    for (const page of pages) {
      if (page.buffer !== data.buffer) page.copy(data, at, 0, Math.min(PAGE_BYTES, len - at));
      at += PAGE_BYTES;
    }
    for (const p of pages) if (p.buffer !== data.buffer && idlePages.length < MAX_IDLE_PAGES) idlePages.push(p);
    const held = count * PAGE_BYTES;
    this.#window.started(len);
    const p = (async () => {
      try {
        await this.#ctx.store.putBlock(await this.#id, index, data);
      } finally {
        this.#ctx.budget.release(held);
        this.#window.finished(len);
        if (pooled !== undefined) returnBlockBuffer(pooled);
      }
    })();
    p.catch(() => undefined); // awaited by the commit
    this.#uploads.push(p);
  }

  /** Waits for the blocks, then for the previous slice of the chunk, then commits the record. */
  async commit(ino: Ino, previous: Promise<void>): Promise<void> {
    await this.#sealed;
    let id: SliceId | undefined;
    try {
      id = await this.#id;
      await Promise.all(this.#uploads);
    } catch (err) {
      await Promise.allSettled(this.#uploads);
      if (id !== undefined) await this.#discard(id);
      throw err;
    }
    await previous.catch(() => undefined); // order, not success: a newer slice still commits
    const record: SliceRecord = { pos: this.pos, id, size: this.slen, off: 0, len: this.slen };
    let attr: Attr;
    try {
      attr = await this.#ctx.meta.writeSlice(ino, this.indx, record, this.mtime);
    } catch (err) {
      if (isFsError(err) && REFUSED.has(err.errno)) await this.#discard(id);
      throw err;
    }
    this.#ctx.committed(ino, this.indx, record, attr);
  }

  /** Deletes the uploaded blocks of a slice that will never be committed. */
  async #discard(id: SliceId): Promise<void> {
    try {
      await this.#ctx.store.deleteSlice(id, this.slen);
    } catch (err) {
      this.#ctx.log.warn({ err, id: String(id), size: this.slen }, 'could not delete the blocks of an uncommitted slice');
    }
  }
}

/** The uncommitted slices of one file. */
export class FileWriter {
  readonly ino: Ino;
  readonly #ctx: WriterContext;
  readonly #chunks = new Map<number, SliceWriter[]>(); // uncommitted slices per chunk, creation order
  readonly #tails = new Map<number, Promise<void>>(); // commit of the newest slice per chunk
  readonly #pending = new Set<SliceWriter>();
  readonly #errors: unknown[] = []; // failed slices not reported by a flush yet
  readonly #uploads: UploadWindow;

  constructor(ctx: WriterContext, ino: Ino, maxUploadBytes: number) {
    this.#ctx = ctx;
    this.ino = ino;
    this.#uploads = new UploadWindow(maxUploadBytes);
  }

  /** Resolves once this file's block uploads in flight are below its window (WriterOptions.maxFileUploadBytes). */
  uploadRoom(signal?: AbortSignal): Promise<void> {
    return this.#uploads.room(signal);
  }

  get pendingSlices(): number {
    return this.#pending.size;
  }

  /** True when nothing is buffered, uploading or unreported. */
  get idle(): boolean {
    return this.#pending.size === 0 && this.#errors.length === 0;
  }

  /** End (file offset) of the furthest uncommitted byte, 0 when none. */
  pendingEnd(): number {
    let end = 0;
    for (const s of this.#pending) end = Math.max(end, s.indx * CHUNK_SIZE + s.pos + s.slen);
    return end;
  }

  /**
   * The uncommitted bytes inside file range [offset, end), oldest slice first per chunk, so that
   * applying them in order on top of the committed bytes gives what the file reads like now.
   */
  pending(offset: number, end: number): PendingPiece[] {
    const out: PendingPiece[] = [];
    for (let at = offset; at < end;) {
      const indx = Math.floor(at / CHUNK_SIZE);
      const base = indx * CHUNK_SIZE;
      const to = Math.min(CHUNK_SIZE, end - base);
      for (const s of this.#chunks.get(indx) ?? []) {
        for (const p of s.pieces(at - base, to)) out.push({ offset: base + p.chunkOff, data: p.data });
      }
      at = base + to;
    }
    return out;
  }

  /** Budget bytes one write of `len` bytes at `offset` may need (whole pages, one partial at each edge per chunk). */
  static creditFor(offset: number, len: number): number {
    let pages = 0;
    for (let at = offset; at < offset + len;) {
      const n = Math.min(CHUNK_SIZE - (at % CHUNK_SIZE), offset + len - at);
      pages += Math.ceil(n / PAGE_BYTES) + 1;
      at += n;
    }
    return pages * PAGE_BYTES;
  }

  /** Places `data` at file `offset` into slice writers; synchronous, pages come from `credit`. */
  write(offset: number, data: Buffer, credit: Credit): void {
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const indx = Math.floor(at / CHUNK_SIZE);
      const pos = at - indx * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - pos, data.length - done);
      this.#slice(indx, pos, n).write(pos, data.subarray(done, done + n), credit);
      done += n;
    }
  }

  /** The slice writer that takes `len` bytes at chunk offset `pos` (spec §E.1). */
  #slice(indx: number, pos: number, len: number): SliceWriter {
    let list = this.#chunks.get(indx);
    if (list === undefined) this.#chunks.set(indx, (list = []));
    for (let i = list.length - 1, back = 0; i >= 0; i--, back++) {
      const s = list[i];
      if (s === undefined) continue;
      if (s.accepts(pos)) return s;
      if (back >= CANDIDATES) s.freeze();
      if (s.overlaps(pos, len)) break; // a newer slice must win over s: do not write into anything older
    }
    const s = new SliceWriter(this.#ctx, this.#uploads, toChunkIndex(indx), pos);
    const previous = this.#tails.get(indx) ?? Promise.resolve();
    s.done = s.commit(this.ino, previous);
    this.#tails.set(indx, s.done);
    list.push(s);
    this.#pending.add(s);
    s.done.then(
      () => this.#forget(s),
      (err: unknown) => {
        this.#errors.push(err);
        this.#ctx.log.warn({ err, ino: String(this.ino), indx, pos: s.pos, len: s.slen }, 'slice commit failed');
        this.#forget(s);
      },
    );
    return s;
  }

  #forget(s: SliceWriter): void {
    this.#pending.delete(s);
    const list = this.#chunks.get(s.indx);
    if (list === undefined) return;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      this.#chunks.delete(s.indx);
      if (this.#tails.get(s.indx) === s.done) this.#tails.delete(s.indx);
    }
  }

  /** Freezes every open slice. */
  freezeAll(): void {
    for (const s of this.#pending) s.freeze();
  }

  /** Freezes slices by age and idleness (spec §E.1); returns how many were frozen. */
  freezeStale(nowMs: number, ageMs: number, idleMs: number): number {
    let n = 0;
    for (const s of this.#pending) {
      if (s.frozen) continue;
      const age = nowMs - s.createdMs;
      if (age >= ageMs || (nowMs - s.lastWriteMs >= idleMs && age >= idleMs)) {
        s.freeze();
        n++;
      }
    }
    return n;
  }

  /** Waits until the oldest uncommitted slice settles. */
  async waitOldest(): Promise<void> {
    const first = this.#pending.values().next();
    if (first.done === true) return;
    await first.value.done.catch(() => undefined);
  }

  /** Freezes everything and waits until every slice written so far is committed or failed; errors stay for flush(). */
  async settle(signal?: AbortSignal): Promise<void> {
    this.freezeAll();
    const all = Promise.allSettled([...this.#pending].map((s) => s.done));
    await (signal === undefined ? all : abortable(all, signal));
  }

  /**
   * The durability point (fsync, NFS COMMIT, end of a PUT): resolves once every slice written
   * before the call has its blocks durable and its record in meta; rejects with the first failure
   * not reported yet (each failure is reported once).
   */
  async flush(signal?: AbortSignal): Promise<void> {
    await this.settle(signal);
    const err = this.#errors[0];
    if (err === undefined) return;
    this.#errors.length = 0;
    throw isFsError(err) ? err : new FsError(Errno.EIO, 'slice upload or commit failed', { cause: err });
  }
}

/** All FileWriters of a Vfs, the shared budget, and the age/idle timer. */
export class WriterPool {
  readonly #ctx: WriterContext;
  readonly #writers = new Map<Ino, FileWriter>();
  readonly #ageMs: number;
  readonly #idleMs: number;
  readonly #maxPending: number;
  readonly #maxPiece: number;
  readonly #maxFileUploads: number;
  readonly #timer: NodeJS.Timeout;

  constructor(ctx: WriterContext, opts: WriterOptions = {}) {
    this.#ctx = ctx;
    this.#ageMs = opts.flushAgeMs ?? 5000;
    this.#idleMs = opts.flushIdleMs ?? 1000;
    this.#maxPending = opts.maxPendingSlices ?? 800;
    if (ctx.store.blockSizeBytes % PAGE_BYTES !== 0) throw new FsError(Errno.EINVAL, `block size ${ctx.store.blockSizeBytes} is not a multiple of ${PAGE_BYTES}`);
    // a piece needs its pages plus one partial page at each edge, per chunk it touches (≤ 2)
    const pages = Math.floor(ctx.budget.capacityBytes / PAGE_BYTES);
    if (pages < MIN_BUDGET_PAGES) throw new FsError(Errno.EINVAL, `buffer budget of ${ctx.budget.capacityBytes} bytes is below ${MIN_BUDGET_PAGES} pages of ${PAGE_BYTES}`);
    this.#maxPiece = Math.min(MAX_WRITE_PIECE, (pages - 3) * PAGE_BYTES);
    const B = ctx.store.blockSizeBytes;
    this.#maxFileUploads = opts.maxFileUploadBytes ?? Math.max(B, Math.min(FILE_UPLOAD_BLOCKS * B, (Math.floor(ctx.budget.capacityBytes / B) - 1) * B));
    const tickMs = Math.max(10, Math.min(500, Math.floor(Math.min(this.#ageMs, this.#idleMs) / 2)));
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#timer.unref();
  }

  get(ino: Ino): FileWriter | undefined {
    return this.#writers.get(ino);
  }

  /** Files with uncommitted slices or unreported failures. */
  get size(): number {
    return this.#writers.size;
  }

  /** End of the uncommitted data of `ino` (0 when none): file lengths include it before the commit. */
  pendingEnd(ino: Ino): number {
    return this.#writers.get(ino)?.pendingEnd() ?? 0;
  }

  /**
   * Buffers `data` at `offset` of `ino`, in pieces small enough for the budget. Each piece waits
   * for the file's upload window, then for its pages (freezing the open slices of every file when
   * the budget is short), so a waiting write holds nothing. Callers serialise writes of one file
   * (InodeLocks).
   */
  async write(ino: Ino, offset: number, data: Buffer, signal?: AbortSignal): Promise<void> {
    for (let done = 0; done < data.length; done += this.#maxPiece) {
      await this.#writePiece(ino, offset + done, data.subarray(done, done + this.#maxPiece), signal);
    }
  }

  async #writePiece(ino: Ino, offset: number, data: Buffer, signal?: AbortSignal): Promise<void> {
    let w = this.#writers.get(ino);
    while (w !== undefined && w.pendingSlices >= this.#maxPending) {
      w.freezeAll();
      await w.waitOldest();
      w = this.#writers.get(ino);
    }
    await w?.uploadRoom(signal);
    const budget = this.#ctx.budget;
    const want = FileWriter.creditFor(offset, data.length);
    if (!budget.tryAcquire(want)) {
      this.#relieve();
      await budget.acquire(want, signal);
    }
    const credit: Credit = { left: want };
    try {
      w = this.#writers.get(ino);
      if (w === undefined) this.#writers.set(ino, (w = new FileWriter(this.#ctx, ino, this.#maxFileUploads)));
      w.write(offset, data, credit);
    } finally {
      if (credit.left > 0) budget.release(credit.left);
    }
    // pages taken by a write granted before others started waiting must drain too
    if (budget.waiting > 0) this.#relieve();
  }

  /** Durability point of one file (FileWriter.flush); a file without writes flushes at once. */
  async flush(ino: Ino, signal?: AbortSignal): Promise<void> {
    const w = this.#writers.get(ino);
    if (w === undefined) return;
    try {
      await w.flush(signal);
    } finally {
      this.#dropIfIdle(w);
    }
  }

  /** Commits what `ino` has buffered without consuming its failures (reads, truncate, clone). */
  async settle(ino: Ino, signal?: AbortSignal): Promise<void> {
    const w = this.#writers.get(ino);
    if (w === undefined) return;
    await w.settle(signal);
    this.#dropIfIdle(w);
  }

  /** Flushes every file; returns the failures, one per file that had any. */
  async flushAll(): Promise<{ ino: Ino; err: unknown }[]> {
    const failures: { ino: Ino; err: unknown }[] = [];
    await Promise.all([...this.#writers.values()].map(async (w) => {
      try {
        await this.flush(w.ino);
      } catch (err) {
        failures.push({ ino: w.ino, err });
      }
    }));
    return failures;
  }

  /** Stops the timer; callers flush first. */
  close(): void {
    clearInterval(this.#timer);
  }

  #dropIfIdle(w: FileWriter): void {
    if (w.idle && this.#writers.get(w.ino) === w) this.#writers.delete(w.ino);
  }

  #tick(): void {
    const t = Date.now();
    for (const w of this.#writers.values()) {
      w.freezeStale(t, this.#ageMs, this.#idleMs);
      if (w.idle) this.#writers.delete(w.ino);
    }
  }

  /**
   * Buffer pressure: freezes every open slice so that all buffered pages drain to the store. A
   * partial relief could leave a waiter short with nothing else in flight until the age timer.
   */
  #relieve(): void {
    for (const w of this.#writers.values()) w.freezeAll();
  }
}

/** `p`, or the abort reason of `signal` if that comes first (the work itself goes on). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
