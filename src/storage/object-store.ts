/**
 * The ObjectStore seam (STYLE.md §2): a flat key -> bytes store that holds volume blocks
 * (spec §D). Backends (memory, file, s3) and decorators (prefix, shards, compression, retry,
 * metrics) all implement this one interface. Every call is idempotent, so a retry is always safe.
 * It knows nothing about files, inodes or slices; keys are opaque strings built by keys.ts.
 */
import { Errno, FsError } from '../util/errno.js';

/** A byte window of an object: `length` bytes starting at `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** What head() and list() report about one object. */
export interface ObjectInfo {
  key: string;
  /** Size in bytes as the caller put it (decorators report the logical size). */
  size: number;
  mtime: Date;
}

export interface ListOptions {
  /** Only keys strictly greater than this one (byte-wise), like S3 ListObjectsV2 StartAfter. */
  startAfter?: string;
  /** Stop after this many keys (all of them when absent). */
  limit?: number;
  signal?: AbortSignal;
}

/**
 * Errors: every failure is an FsError (ENOENT missing object, EACCES denied, ENXIO missing bucket,
 * EINVAL bad key or range, EIO server/network failure once retries are spent) with the backend's
 * error as `cause`, except an aborted call, which rejects with `signal.reason` unchanged.
 */
export interface ObjectStore {
  /** Human-readable location for logs, e.g. `file:///var/jfs/` or `s3://bucket (http://host:9000)`; never contains secrets. */
  readonly description: string;
  /** Whole object, or the bytes of `range` (short at the end of the object, empty past it); ENOENT when missing; idempotent. */
  get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Optional, for stores that can read in place (file): the bytes `range` of `key` read straight
   * into `dest` (at least range.length long) from its start, without a buffer of their own.
   * Resolves to the count read: short at the end of the object, 0 past it; ENOENT when missing.
   */
  readInto?(key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number>;
  /**
   * Stores `body` under `key`, replacing any previous object atomically (readers see old or new,
   * never a mix); idempotent. A key that did not exist may be seen partly written until put
   * resolves (the file store creates new objects in place): block objects are read only after
   * the slice naming them is committed, which waits for put.
   */
  put(key: string, body: Buffer, signal?: AbortSignal): Promise<void>;
  /** Removes `key`; a missing object is success; idempotent. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Size and modification time of `key`; ENOENT when missing; idempotent. */
  head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }>;
  /** Objects whose key starts with `prefix`, in ascending byte-wise (UTF-8) key order, fetched page by page as the caller reads; idempotent. */
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Releases sockets and handles; later calls may fail; idempotent. */
  close(): Promise<void>;
}

/** Byte-wise UTF-8 comparison of two keys: the order S3 lists in (JS `<` compares UTF-16 units). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Throws EINVAL unless `range` holds non-negative safe integers. */
export function checkRange(range: ByteRange, key: string): void {
  if (!Number.isSafeInteger(range.offset) || !Number.isSafeInteger(range.length) || range.offset < 0 || range.length < 0) {
    throw new FsError(Errno.EINVAL, `bad range ${range.offset}+${range.length} for ${key}`);
  }
}

/** Throws EINVAL for keys no backend can hold: empty, or containing NUL. */
export function checkKey(key: string): void {
  if (key.length === 0 || key.includes('\0')) throw new FsError(Errno.EINVAL, `bad object key ${JSON.stringify(key)}`);
}

/** The `range` window of a whole object held in memory (used by backends and decorators that cannot read ranges). */
export function sliceRange(body: Buffer, range: ByteRange | undefined): Buffer {
  if (range === undefined) return body;
  const start = Math.min(range.offset, body.length);
  return body.subarray(start, Math.min(body.length, start + range.length));
}

/**
 * `range` of `key` read into `dest` (see ObjectStore.readInto): in place when the store can, else
 * fetched and copied. Resolves to the count read.
 */
export async function readIntoOf(store: ObjectStore, key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal): Promise<number> {
  if (store.readInto !== undefined) return store.readInto(key, range, dest, signal);
  const data = await store.get(key, range, signal);
  return data.copy(dest, 0, 0, Math.min(data.length, range.length));
}
