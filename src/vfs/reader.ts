/**
 * The read path (spec §E.2, DESIGN.md "Read path"): a byte range of a file becomes, per chunk,
 * newest-wins pieces of its slice list, then ranged block reads through the ChunkStore (holes are
 * zeros without I/O, everything is clipped at the file length). Slice lists are cached per open
 * inode and dropped whenever this process changes the chunk or a fresh attr shows another writer
 * did (close-to-open, spec §F). Sequential readers get read-ahead (cache/read-ahead.ts); a small
 * random read makes the block cache fetch the whole block in the background.
 * It never writes: pending writes are committed by Vfs before a read (see Vfs.read).
 */
import type { Meta } from '../meta/meta.js';
import { CHUNK_SIZE, type ChunkIndex, type Ino, type SliceRecord, toChunkIndex } from '../meta/types.js';
import type { ByteSpan, ReadAhead, ReadAheadLimit } from '../cache/read-ahead.js';
import type { Logger } from '../observability/logger.js';
import { Errno, FsError, isFsError } from '../util/errno.js';
import type { ChunkStore } from './chunk-store.js';
import { blocksOf, dataPieceCount, planChunkRead, resolveChunk, type BlockRead, type Piece } from './slices.js';

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

  /** Forgets one chunk, or every chunk. */
  invalidate(indx?: number): void {
    if (indx === undefined) this.#chunks.clear();
    else this.#chunks.delete(indx);
  }
}

export interface ReaderContext {
  /** Slice lists (readSlices). */
  meta: Meta;
  /** Block reads and prefetches. */
  store: ChunkStore;
  /** For failed read-ahead and missing blocks. */
  log: Logger;
  /** Shared cap on read-ahead bytes in flight. */
  readAheadLimit: ReadAheadLimit;
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
   * Bytes [offset, offset+length) of a file of `fileLength` bytes: short at the end, empty at or
   * past it. EIO when a block the slice list names is missing even after refreshing the list.
   */
  async read(cache: SliceCache, fileLength: number, offset: number, length: number, ra: ReadAhead | undefined, signal?: AbortSignal): Promise<Buffer> {
    const end = Math.min(offset + length, fileLength);
    if (offset >= end) return Buffer.alloc(0);
    const out = Buffer.alloc(end - offset);
    const reads: Promise<void>[] = [];
    for (let at = offset; at < end;) {
      const indx = Math.floor(at / CHUNK_SIZE);
      const from = at - indx * CHUNK_SIZE;
      const to = Math.min(CHUNK_SIZE, end - indx * CHUNK_SIZE);
      reads.push(this.#readChunk(cache, toChunkIndex(indx), from, to, out, at - offset, signal));
      at = indx * CHUNK_SIZE + to;
    }
    await Promise.all(reads);
    if (ra !== undefined) this.#readAhead(cache, ra.onRead(offset, length, fileLength));
    return out;
  }

  /** Resolves when background prefetches started so far have finished. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  async #readChunk(cache: SliceCache, indx: ChunkIndex, from: number, to: number, out: Buffer, base: number, signal?: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const view = await cache.get(indx);
      if (view.records.length >= COMPACT_ON_READ || view.dataPieces >= COMPACT_ON_READ) this.#ctx.fragmented(cache.ino, indx, view.records.length);
      try {
        await this.#fill(planChunkRead(view.pieces, from, to, this.#ctx.store.blockSizeBytes), out, base, signal);
        return;
      } catch (err) {
        if (!isFsError(err, Errno.ENOENT)) throw err;
        // a compaction or deletion elsewhere may have replaced the slices we had cached
        cache.invalidate(indx);
        if (attempt >= 2) {
          this.#ctx.log.error({ err, ino: String(cache.ino), indx }, 'block of a committed slice is missing');
          throw new FsError(Errno.EIO, `missing block of inode ${cache.ino} chunk ${indx}`, { cause: err });
        }
      }
    }
  }

  async #fill(reads: BlockRead[], out: Buffer, base: number, signal?: AbortSignal): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let r = reads[next++]; r !== undefined; r = reads[next++]) {
        const data = await this.#ctx.store.readBlock(r.id, r.size, r.index, { offset: r.offset, length: r.length }, signal);
        if (data.length < r.length) {
          throw new FsError(Errno.EIO, `block ${r.index} of slice ${r.id} returned ${data.length} of ${r.length} bytes at ${r.offset}`);
        }
        data.copy(out, base + r.dst, 0, r.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, reads.length) }, worker));
  }

  /** Fetches the blocks under each read-ahead span in the background, returning its reserved bytes after. */
  #readAhead(cache: SliceCache, spans: ByteSpan[]): void {
    for (const span of spans) {
      const p = this.#prefetchSpan(cache, span)
        .catch((err: unknown) => this.#ctx.log.debug({ err, ino: String(cache.ino), ...span }, 'read-ahead failed'))
        .finally(() => {
          this.#ctx.readAheadLimit.release(span.length);
          this.#background.delete(p);
        });
      this.#background.add(p);
    }
  }

  async #prefetchSpan(cache: SliceCache, span: ByteSpan): Promise<void> {
    const end = span.offset + span.length;
    for (let at = span.offset; at < end;) {
      const indx = Math.floor(at / CHUNK_SIZE);
      const from = at - indx * CHUNK_SIZE;
      const to = Math.min(CHUNK_SIZE, end - indx * CHUNK_SIZE);
      const view = await cache.get(toChunkIndex(indx));
      const blocks = blocksOf(view.pieces, from, to, this.#ctx.store.blockSizeBytes);
      await Promise.all(blocks.map((b) => this.#ctx.store.prefetchBlock(b.id, b.size, b.index)));
      at = indx * CHUNK_SIZE + to;
    }
  }
}
