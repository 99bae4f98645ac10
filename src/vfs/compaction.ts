/**
 * Background compaction of fragmented chunks (spec §E.3): read the chunk's list, plan (slices.ts),
 * write the resolved bytes as ONE new slice through the normal block path, then ask meta to swap
 * the first N records for it atomically (Meta.compactChunk). Readers are never blocked: they keep
 * reading the old slices until the swap, and a reader whose cached list names a slice deleted by
 * the swap refreshes its list (reader.ts). It must never leave the new slice's objects behind when
 * the swap is refused, and never holds more than one block of data per running compaction. A commit
 * that leaves 2500 records or more waits for its chunk's compaction (compactNow).
 */
import type { BufferBudget } from '../cache/buffer-budget.js';
import type { Meta } from '../meta/meta.js';
import { type ChunkIndex, type Ino, type SliceRecord } from '../meta/types.js';
import type { Logger } from '../observability/logger.js';
import { Errno, isFsError } from '../util/errno.js';
import type { ChunkStore } from './chunk-store.js';
import { planChunkRead, planCompaction } from './slices.js';

export interface CompactorContext {
  /** Slice lists, new slice ids and the swap (compactChunk). */
  meta: Meta;
  /** Reads the old blocks, writes the new slice, deletes it when the swap is refused. */
  store: ChunkStore;
  /** One block per running compaction is drawn from it. */
  budget: BufferBudget;
  /** For failures of background compactions. */
  log: Logger;
  /** Called after a swap changed the chunk's list (drop cached lists). */
  compacted(ino: Ino, indx: ChunkIndex): void;
}

export interface CompactorOptions {
  /** Compactions running at once (default 1). */
  concurrency?: number;
  /** Chunks waiting; further requests are dropped until there is room (default 1000). */
  maxQueued?: number;
}

/** Chunks remembered as not worth compacting. */
const MAX_FUTILE = 10_000;

export class Compactor {
  readonly #ctx: CompactorContext;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #queue: { ino: Ino; indx: ChunkIndex }[] = [];
  readonly #known = new Set<string>(); // queued or running
  /** Chunks whose list of this many records had nothing worth compacting (bounded, oldest dropped). */
  readonly #futile = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  readonly #jobs = new Map<string, Promise<void>>(); // running compactions by chunk
  readonly #closing = new AbortController();
  #disabled = false;
  #closed = false;

  constructor(ctx: CompactorContext, opts: CompactorOptions = {}) {
    this.#ctx = ctx;
    this.#concurrency = Math.max(1, opts.concurrency ?? 1);
    this.#maxQueued = opts.maxQueued ?? 1000;
  }

  /**
   * Asks for a background compaction of one chunk; duplicates and overflow are dropped, and so is a
   * chunk that had nothing worth compacting when its list had `records` records.
   */
  schedule(ino: Ino, indx: ChunkIndex, records?: number): void {
    const k = `${ino}:${indx}`;
    if (this.#closed || this.#disabled || this.#known.has(k) || this.#queue.length >= this.#maxQueued) return;
    if (records !== undefined && this.#futile.get(k) === records) return;
    this.#known.add(k);
    this.#queue.push({ ino, indx });
    this.#pump();
  }

  /**
   * Compacts one chunk now and resolves when done (a commit that left 2500 records waits for this,
   * spec §B.12); a compaction of the chunk already running is waited for instead of doubled.
   * Failures are logged, never thrown.
   */
  async compactNow(ino: Ino, indx: ChunkIndex): Promise<void> {
    const k = `${ino}:${indx}`;
    for (;;) {
      const running = this.#jobs.get(k);
      if (running === undefined) break;
      await running;
    }
    if (this.#closed || this.#disabled) return;
    const i = this.#queue.findIndex((j) => `${j.ino}:${j.indx}` === k);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#known.add(k);
    await this.#run(ino, indx);
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** Stops taking work, aborts queued work, waits for running compactions. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    this.#closing.abort(new Error('compactor closed'));
    await this.idle();
  }

  #pump(): void {
    while (this.#running.size < this.#concurrency) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      void this.#run(job.ino, job.indx);
    }
  }

  /** Runs one compaction of a chunk already marked known; logs failures; pumps the queue after. */
  #run(ino: Ino, indx: ChunkIndex): Promise<void> {
    const k = `${ino}:${indx}`;
    const p: Promise<void> = this.compact(ino, indx, this.#closing.signal)
      .then(() => undefined, (err: unknown) => {
        if (isFsError(err, Errno.ENOSYS)) {
          this.#disabled = true;
          this.#ctx.log.warn({ err }, 'compaction disabled: the metadata engine cannot swap slices');
        } else if (!this.#closed && !isFsError(err, Errno.ENOENT)) {
          this.#ctx.log.warn({ err, ino: String(ino), indx }, 'compaction failed');
        }
      })
      .finally(() => {
        this.#running.delete(p);
        this.#jobs.delete(k);
        this.#known.delete(k);
        this.#pump();
      });
    this.#running.add(p);
    this.#jobs.set(k, p);
    return p;
  }

  /**
   * Compacts one chunk now; true when its list was rewritten, false when there was nothing worth
   * doing or the list changed under us (the new slice's objects are then deleted).
   */
  async compact(ino: Ino, indx: ChunkIndex, signal?: AbortSignal): Promise<boolean> {
    const { meta, store, budget } = this.#ctx;
    const list = await meta.readSlices(ino, indx);
    const plan = planCompaction(list);
    const k = `${ino}:${indx}`;
    if (plan === null) {
      this.#futile.delete(k);
      this.#futile.set(k, list.length);
      if (this.#futile.size > MAX_FUTILE) this.#futile.delete(this.#futile.keys().next().value ?? k);
      return false;
    }
    this.#futile.delete(k);
    signal?.throwIfAborted();
    const size = plan.end - plan.start;
    const B = store.blockSizeBytes;
    const id = await meta.newSliceId();
    const discard = (): Promise<void> => store.deleteSlice(id, size)
      .catch((err: unknown) => this.#ctx.log.warn({ err, id: String(id) }, 'could not delete an unused compaction slice'));
    try {
      for (let index = 0; index * B < size; index++) {
        const from = plan.start + index * B;
        const to = Math.min(plan.end, from + B);
        await budget.acquire(to - from, signal);
        try {
          const block = Buffer.alloc(to - from);
          for (const r of planChunkRead(plan.pieces, from, to, B)) {
            const data = await store.readBlock(r.id, r.size, r.index, { offset: r.offset, length: r.length }, signal);
            data.copy(block, r.dst, 0, r.length);
          }
          await store.putBlock(id, index, block, signal);
        } finally {
          budget.release(to - from);
        }
      }
    } catch (err) {
      await discard();
      throw err;
    }
    // If the swap fails ambiguously (a lost reply), the new slice may be referenced: keep it then.
    const slice: SliceRecord = { pos: plan.start, id, size, off: 0, len: size };
    const swapped = await meta.compactChunk(ino, indx, plan.old, plan.skipped, slice);
    if (!swapped) await discard();
    this.#ctx.compacted(ino, indx);
    this.#ctx.log.debug({ ino: String(ino), indx, records: plan.old.length, skipped: plan.skipped, size }, swapped ? 'chunk compacted' : 'chunk changed during compaction');
    return swapped;
  }
}
