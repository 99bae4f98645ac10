/**
 * The next range of a handle read in order one request at a time (an NFS client copying a file
 * with one READ outstanding): while the reply of one read is being sent, the same-sized range after
 * it is read into a pooled buffer, so the next request finds its bytes there instead of waiting for
 * the store (DESIGN.md "Read path"). Used where the store reads in place and the handle has no
 * block read-ahead. This module only keeps that state and decides; Vfs does the reading. The bytes
 * are trusted only while the file's slice lists and writes are as they were when the read started.
 */
import type { BufferPool } from '../util/buffer-pool.js';
import type { ByteReserve } from '../cache/read-ahead.js';

/** What a read ahead saw of its file: it must be unchanged when the bytes are used. */
export interface FileVersion {
  /** SliceCache generation (bumped by every dropped slice list: commits, truncates, other writers). */
  generation: number;
  /** Writes issued through this Vfs to the file. */
  writes: number;
}

/** One range read ahead into a buffer of `pool`. */
export interface NextRange {
  offset: number;
  length: number;
  version: FileVersion;
  pool: BufferPool;
  /** Taken from `pool`; the range's bytes start at 0. */
  buffer: Buffer;
  /** The count read, or undefined when the read failed (the request that wants it reads again). */
  done: Promise<number | undefined>;
}

/** Per-handle state: where the last read ended, reads in flight, and the range read ahead. */
export class NextReads {
  readonly #reserve: ByteReserve;
  #lastEnd = 0;
  #inFlight = 0;
  #next: NextRange | undefined;

  /** Every range held takes its length from `reserve` until it is used or dropped. */
  constructor(reserve: ByteReserve) {
    this.#reserve = reserve;
  }

  /** Reads of the handle in flight (started, not finished). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A read of the handle starts. */
  begin(): void {
    this.#inFlight++;
  }

  /**
   * The read of [offset, offset+length) ended having read `count` bytes: true when it continued
   * the previous one (or began the file), read all it asked for, and is the only read in flight,
   * i.e. when reading the range after it is worth doing now.
   */
  end(offset: number, length: number, count: number): boolean {
    this.#inFlight--;
    const inOrder = offset === this.#lastEnd;
    this.#lastEnd = offset + count;
    return inOrder && count === length && this.#inFlight === 0 && this.#next === undefined;
  }

  /** Holds `length` bytes of the reserve for a range about to be read ahead; false when it is spent. */
  reserve(length: number): boolean {
    return this.#reserve.tryAcquire(length);
  }

  /** Keeps a range read ahead (its bytes already reserved), replacing none: call after end() said so. */
  hold(range: NextRange): void {
    if (this.#next !== undefined) this.#drop(this.#next);
    this.#next = range;
  }

  /**
   * The range read ahead when it is exactly [offset, offset+length) and the file is still at
   * `version`; it is no longer held (the caller owns its buffer). Any other range is dropped.
   */
  take(offset: number, length: number, version: FileVersion): NextRange | undefined {
    const n = this.#next;
    if (n === undefined) return undefined;
    this.#next = undefined;
    if (n.offset === offset && n.length === length && sameVersion(n.version, version)) {
      this.#reserve.release(n.length);
      return n;
    }
    this.#drop(n);
    return undefined;
  }

  /** Drops the range held, if any (handle closing, random access). */
  clear(): void {
    if (this.#next !== undefined) this.#drop(this.#next);
    this.#next = undefined;
  }

  /** Gives the buffer back once its read has settled, and the reserved bytes now. */
  #drop(n: NextRange): void {
    this.#reserve.release(n.length);
    void n.done.then(() => n.pool.give(n.buffer));
  }
}

export function sameVersion(a: FileVersion, b: FileVersion): boolean {
  return a.generation === b.generation && a.writes === b.writes;
}
