/**
 * ChunkStore: the data seam of vfs (STYLE.md §2), blocks of slices by (slice id, block index).
 * It turns a slice id into object keys through storage/keys.ts (spec §D.1/§D.2: blocks counted from
 * the slice start, key length = exact block length, §I) and reads/writes them through the
 * BlockCache (memory, disk, write-back staging, then the ObjectStore). It knows no files or inodes.
 */
import type { BlockCache } from '../cache/block-cache.js';
import type { SliceId } from '../meta/types.js';
import { blockKey, sliceBlockKeys } from '../storage/keys.js';
import type { ByteRange } from '../storage/object-store.js';
import { Errno, FsError } from '../util/errno.js';

export interface ChunkStore {
  /** The volume block size in bytes (Format.BlockSize × 1024). */
  readonly blockSizeBytes: number;
  /** Bytes `range` of block `index` of slice (id, size), or the whole block; ENOENT when the object is missing. */
  readBlock(id: SliceId, size: number, index: number, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  /** Bytes `range` of block `index` of slice (id, size) copied into `dest` from its start (see BlockCache.getInto); the count read. */
  readBlockInto(id: SliceId, size: number, index: number, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number>;
  /** Stores block `index` of slice `id`; `data.length` is the block length (≤ block size). Durable when it resolves: in the store, or fsynced in write-back staging. Keeps no reference to `data` once settled (the writer reuses it). */
  putBlock(id: SliceId, index: number, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Deletes every block object of a slice of `size` bytes (spec §D.5); missing objects are fine; idempotent. */
  deleteSlice(id: SliceId, size: number, signal?: AbortSignal): Promise<void>;
  /** Resolves when every write-back block staged so far is in the object store. */
  drain(signal?: AbortSignal): Promise<void>;
}

export interface CachedChunkStoreOptions {
  /** Format.BlockSize × 1024. */
  blockSizeBytes: number;
  /** Format.HashPrefix key layout. */
  hashPrefix?: boolean;
  /** Acknowledge puts once staged locally (needs cache dirs; else it is write-through). */
  writeBack?: boolean;
}

/** ChunkStore over a BlockCache; keys are relative to the volume prefix (the store adds `<Name>/`). */
export class CachedChunkStore implements ChunkStore {
  readonly blockSizeBytes: number;
  readonly #cache: BlockCache;
  readonly #hashPrefix: boolean;
  readonly #writeBack: boolean;

  constructor(cache: BlockCache, opts: CachedChunkStoreOptions) {
    if (!Number.isSafeInteger(opts.blockSizeBytes) || opts.blockSizeBytes <= 0) throw new FsError(Errno.EINVAL, `bad block size ${opts.blockSizeBytes}`);
    this.#cache = cache;
    this.blockSizeBytes = opts.blockSizeBytes;
    this.#hashPrefix = opts.hashPrefix ?? false;
    this.#writeBack = opts.writeBack ?? false;
  }

  /** The object key of block `index` of slice (id, size). */
  keyOf(id: SliceId, size: number, index: number): string {
    const len = Math.min(this.blockSizeBytes, size - index * this.blockSizeBytes);
    if (len <= 0) throw new FsError(Errno.EINVAL, `block ${index} is past the end of slice ${id} of ${size} bytes`);
    return blockKey(id, index, len, this.#hashPrefix);
  }

  readBlock(id: SliceId, size: number, index: number, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    return this.#cache.get(this.keyOf(id, size, index), range, signal);
  }

  readBlockInto(id: SliceId, size: number, index: number, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number> {
    return this.#cache.getInto(this.keyOf(id, size, index), range, dest, signal);
  }

  putBlock(id: SliceId, index: number, data: Buffer, signal?: AbortSignal): Promise<void> {
    if (data.length === 0 || data.length > this.blockSizeBytes) throw new FsError(Errno.EINVAL, `block of ${data.length} bytes`);
    const opts = signal === undefined ? { writeBack: this.#writeBack } : { writeBack: this.#writeBack, signal };
    return this.#cache.put(blockKey(id, index, data.length, this.#hashPrefix), data, opts);
  }

  async deleteSlice(id: SliceId, size: number, signal?: AbortSignal): Promise<void> {
    const keys = sliceBlockKeys(id, size, this.blockSizeBytes, this.#hashPrefix);
    // a handful of blocks per slice: delete them concurrently, a few at a time
    for (let i = 0; i < keys.length; i += 8) {
      await Promise.all(keys.slice(i, i + 8).map((k) => this.#cache.delete(k, signal)));
    }
  }

  drain(signal?: AbortSignal): Promise<void> {
    return this.#cache.drain(signal);
  }
}
