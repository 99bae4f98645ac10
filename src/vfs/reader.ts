/**
 * The read path (spec §E.2, DESIGN.md "Read path"): a byte range of a file becomes, per chunk,
 * newest-wins pieces of its slice list, then ranged block reads through the ChunkStore into the
 * caller's buffer (holes are zeroed without I/O, everything is clipped at the file length; a store
 * that reads in place fills the buffer directly). Slice lists are cached per open
 * inode and dropped whenever this process changes the chunk or a fresh attr shows another writer
 * did (close-to-open, spec §F). Sequential readers get read-ahead: the policy of cache/read-ahead.ts
 * picks block-sized file ranges ahead of the reader, SequentialReads fetches them and holds the
 * bytes (counted in the shared read-ahead limit) until the reader has passed them, so one reader
 * keeps many GETs in flight and later reads are copied out of those buffers. A small
 * random read makes the block cache fetch the whole block in the background.
 * It never writes, and sees committed slices only (Vfs overlays pending writes).
 */
import type { Meta } from '../meta/meta.js';
import { CHUNK_SIZE, type ChunkIndex, type Ino, type SliceRecord, toChunkIndex } from '../meta/types.js';
import { ReadAhead, type ReadAheadLimit } from '../cache/read-ahead.js';
import type { Logger } from '../observability/logger.js';
import { Errno, FsError, isFsError } from '../util/errno.js';
import type { ChunkStore } from './chunk-store.js';
import { dataPieceCount, planChunkRead, resolveChunk, type BlockRead, type Piece } from './slices.js';

/** A chunk's stored list and its resolution. */
export interface ChunkView {
  /** The stored list, oldest first. */
  records: SliceRecord[];
  /** Its newest-wins resolution over the whole chunk. */
  pieces: Piece[];
  /** Visible data pieces (compaction trigger). */
  dataPieces: number;
}

/** Block reads of one request issued at once. */
const READ_CONCURRENCY = 16;
/** A chunk with this many records or visible pieces is worth compacting when read (spec §E.3). */
export const COMPACT_ON_READ = 5;

/** Cached slice lists of one inode; a fetch in flight is shared. */
export class SliceCache {
  readonly ino: Ino;
  readonly #meta: Meta;
  readonly #chunks = new Map<number, Promise<ChunkView>>();
  #generation = 0; // bumped by every invalidate: bytes read under an older generation may be stale

  constructor(meta: Meta, ino: Ino) {
    this.#meta = meta;
    this.ino = ino;
  }

  get(indx: ChunkIndex): Promise<ChunkView> {
    let v = this.#chunks.get(indx);
    if (v === undefined) {
      v = this.#meta.readSlices(this.ino, indx).then((records) => {
        const pieces = resolveChunk(records);
        return { records, pieces, dataPieces: dataPieceCount(pieces) };
      });
      this.#chunks.set(indx, v);
      v.catch(() => { if (this.#chunks.get(indx) === v) this.#chunks.delete(indx); });
    }
    return v;
  }

  /** Changes whenever a slice list is dropped. */
  get generation(): number {
    return this.#generation;
  }

  /** Forgets one chunk, or every chunk. */
  invalidate(indx?: number): void {
    this.#generation++;
    if (indx === undefined) this.#chunks.clear();
    else this.#chunks.delete(indx);
  }
}

/** File bytes fetched ahead of a reader. */
interface Prefetched {
  offset: number;
  length: number;
  /** SliceCache generation the bytes were read under. */
  generation: number;
  /**
   * The bytes as consecutive pieces (subarrays of the blocks as the cache holds them, so nothing is
   * copied), or undefined when the fetch failed (the foreground read reports errors).
   */
  data: Promise<Buffer[] | undefined>;
  /** True once `data` has settled: a read served from it did not wait. */
  ready: boolean;
}

/**
 * Read-ahead state of one open handle: the window policy and the ranges fetched ahead. Each range
 * holds its bytes in the shared limit from when the policy hands it out until the reader has moved
 * past it, a random read drops it, or the handle closes.
 */
export class SequentialReads {
  readonly policy: ReadAhead;
  readonly #limit: ReadAheadLimit;
  readonly #ahead = new Map<number, Prefetched>(); // by offset, ascending

  constructor(blockSizeBytes: number, maxReadAheadBytes: number, limit: ReadAheadLimit) {
    this.policy = new ReadAhead({ blockSizeBytes, maxReadAheadBytes, reserve: limit });
    this.#limit = limit;
  }

  /** The fetched range holding all of [offset, end) under `generation`, if any. */
  find(offset: number, end: number, generation: number): Prefetched | undefined {
    for (const p of this.#ahead.values()) {
      if (p.offset <= offset && end <= p.offset + p.length) return p.generation === generation ? p : undefined;
    }
    return undefined;
  }

  add(p: Prefetched): void {
    this.#ahead.set(p.offset, p);
  }

  /** Drops ranges ending at or before `offset` (all of them with Infinity). */
  dropBefore(offset: number): void {
    for (const p of this.#ahead.values()) {
      if (p.offset + p.length > offset) continue;
      this.#ahead.delete(p.offset);
      this.#limit.release(p.length);
    }
  }

  /** Drops every range (random access, close). */
  clear(): void {
    this.dropBefore(Infinity);
  }
}

export interface ReaderContext {
  /** Slice lists (readSlices). */
  meta: Meta;
  /** Block reads and prefetches. */
  store: ChunkStore;
  /** For failed read-ahead and missing blocks. */
  log: Logger;
  /** Asked to compact a fragmented chunk of `records` records (background, deduplicated by the callee). */
  fragmented(ino: Ino, indx: ChunkIndex, records: number): void;
}

export class Reader {
  readonly #ctx: ReaderContext;
  readonly #background = new Set<Promise<void>>();

  constructor(ctx: ReaderContext) {
    this.#ctx = ctx;
  }

  /**
   * Bytes [offset, offset+dest.length) of a file of `fileLength` bytes, copied into `dest` from its
   * start; resolves to the count: short at the end of the file, 0 at or past it. Holes are zeroed.
   * EIO when a block the slice list names is missing even after refreshing the list.
   */
  async readInto(cache: SliceCache, fileLength: number, offset: number, dest: Buffer, seq: SequentialReads | undefined, signal?: AbortSignal): Promise<number> {
    const end = Math.min(offset + dest.length, fileLength);
    if (offset >= end) return 0;
    const out = dest.subarray(0, end - offset);
    let stalled = true;
    let done = false;
    const ahead = seq?.find(offset, end, cache.generation);
    if (ahead !== undefined) {
      stalled = !ahead.ready;
      const pieces = await ahead.data;
      if (pieces !== undefined) done = copyPieces(pieces, offset - ahead.offset, out);
    }
    if (!done) {
      await Promise.all(chunkSpans(offset, end).map((c) => this.#withPlan(cache, c.indx, c.from, c.to,
        (plan) => this.#fillInto(plan, out.subarray(c.at - offset, c.at - offset + c.to - c.from), signal))));
    }
    if (seq !== undefined) this.#readAhead(cache, seq, offset, dest.length, fileLength, stalled);
    return out.length;
  }

  /**
   * Bytes [offset, end) (end within the file) as consecutive pieces, every block touched fetched
   * whole (read-ahead: whole blocks are what the block cache keeps, in memory and on disk) and
   * handed out as subarrays of the cached blocks, holes as zeros: nothing is copied.
   */
  async #readPieces(cache: SliceCache, offset: number, end: number): Promise<Buffer[]> {
    const parts = await Promise.all(chunkSpans(offset, end).map((c) => this.#withPlan(cache, c.indx, c.from, c.to, async (plan) => {
      const blocks = await this.#blocksOf(plan);
      const pieces: Buffer[] = [];
      let at = 0;
      plan.forEach((r, i) => {
        if (r.dst > at) pieces.push(Buffer.alloc(r.dst - at));
        pieces.push(blocks[i] ?? Buffer.alloc(0));
        at = r.dst + r.length;
      });
      if (c.to - c.from > at) pieces.push(Buffer.alloc(c.to - c.from - at));
      return pieces;
    })));
    return parts.flat();
  }

  /** Resolves when background prefetches started so far have finished. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /**
   * Runs `use` on the block reads of [from, to) of a chunk; when a block is missing (ENOENT: a
   * compaction or deletion elsewhere replaced the slices we had cached), once more with a fresh
   * slice list, then EIO.
   */
  async #withPlan<T>(cache: SliceCache, indx: ChunkIndex, from: number, to: number, use: (plan: BlockRead[]) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const view = await cache.get(indx);
      if (view.records.length >= COMPACT_ON_READ || view.dataPieces >= COMPACT_ON_READ) this.#ctx.fragmented(cache.ino, indx, view.records.length);
      try {
        return await use(planChunkRead(view.pieces, from, to, this.#ctx.store.blockSizeBytes));
      } catch (err) {
        if (!isFsError(err, Errno.ENOENT)) throw err;
        cache.invalidate(indx);
        if (attempt >= 2) {
          this.#ctx.log.error({ err, ino: String(cache.ino), indx }, 'block of a committed slice is missing');
          throw new FsError(Errno.EIO, `missing block of inode ${cache.ino} chunk ${indx}`, { cause: err });
        }
      }
    }
  }

  /**
   * Reads the block reads of a chunk range into `out` (each at its r.dst), READ_CONCURRENCY at a
   * time, and zeroes what no read covers (holes); EIO when a block is short.
   */
  async #fillInto(reads: BlockRead[], out: Buffer, signal: AbortSignal | undefined): Promise<void> {
    let at = 0;
    for (const r of reads) { // in dst order, not overlapping
      if (r.dst > at) out.fill(0, at, r.dst);
      at = r.dst + r.length;
    }
    if (at < out.length) out.fill(0, at);
    await eachConcurrently(reads, async (r) => {
      const n = await this.#ctx.store.readBlockInto(r.id, r.size, r.index, { offset: r.offset, length: r.length }, out.subarray(r.dst, r.dst + r.length), signal);
      if (n < r.length) throw shortBlock(r, n);
    });
  }

  /** The bytes of each read (exactly r.length each), cut from whole blocks, READ_CONCURRENCY at a time; EIO when a block is short. */
  async #blocksOf(reads: BlockRead[]): Promise<Buffer[]> {
    const out: Buffer[] = new Array<Buffer>(reads.length);
    await eachConcurrently(reads, async (r, i) => {
      const block = await this.#ctx.store.readBlock(r.id, r.size, r.index);
      const data = block.subarray(Math.min(r.offset, block.length), Math.min(block.length, r.offset + r.length));
      if (data.length < r.length) throw shortBlock(r, data.length);
      out[i] = data;
    });
    return out;
  }

  /**
   * Tells the policy about a read, drops what the reader has passed (everything after a random
   * read) and starts fetching the ranges the policy hands out; their bytes stay held until passed.
   */
  #readAhead(cache: SliceCache, seq: SequentialReads, offset: number, length: number, fileLength: number, stalled: boolean): void {
    const spans = seq.policy.onRead(offset, length, fileLength, stalled);
    if (seq.policy.windowBytes === 0) seq.clear();
    else seq.dropBefore(offset);
    for (const span of spans) {
      const generation = cache.generation;
      const data = this.#readPieces(cache, span.offset, span.offset + span.length)
        .catch((err: unknown) => {
          this.#ctx.log.debug({ err, ino: String(cache.ino), ...span }, 'read-ahead failed');
          return undefined;
        });
      const entry: Prefetched = { ...span, generation, data, ready: false };
      seq.add(entry);
      const p = data.then(() => { entry.ready = true; this.#background.delete(p); });
      this.#background.add(p);
    }
  }
}

/** The chunks [offset, end) of a file touches: chunk index, range inside the chunk, file offset. */
function chunkSpans(offset: number, end: number): { indx: ChunkIndex; from: number; to: number; at: number }[] {
  const out: { indx: ChunkIndex; from: number; to: number; at: number }[] = [];
  for (let at = offset; at < end;) {
    const i = Math.floor(at / CHUNK_SIZE);
    const from = at - i * CHUNK_SIZE;
    const to = Math.min(CHUNK_SIZE, end - i * CHUNK_SIZE);
    out.push({ indx: toChunkIndex(i), from, to, at });
    at = i * CHUNK_SIZE + to;
  }
  return out;
}

/**
 * Copies bytes [from, from+out.length) of the concatenation of `pieces` into `out`; false when the
 * pieces are shorter.
 */
function copyPieces(pieces: Buffer[], from: number, out: Buffer): boolean {
  let got = 0;
  let start = 0;
  for (const p of pieces) {
    if (got === out.length) break;
    const at = from + got - start;
    if (at < p.length) got += p.copy(out, got, at, Math.min(p.length, at + out.length - got));
    start += p.length;
  }
  return got === out.length;
}

/** Runs `fn` on every item, READ_CONCURRENCY at a time. */
async function eachConcurrently<T>(items: T[], fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await fn(item, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
}

function shortBlock(r: BlockRead, got: number): FsError {
  return new FsError(Errno.EIO, `block ${r.index} of slice ${r.id} returned ${got} of ${r.length} bytes at ${r.offset}`);
}
