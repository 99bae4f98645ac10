/**
 * BufferPool: large buffers of one size handed out and taken back, so that a stream of reads
 * (NFS READ replies, WebDAV GET bodies) reuses a few buffers instead of allocating one per request
 * (each a full GC's worth of external memory at these sizes). It never zeroes: a taker overwrites
 * what it sends. A buffer must be given back only once nothing refers to it any more (its socket
 * write has completed); one never given back is simply collected.
 */

export class BufferPool {
  /** Size in bytes of every buffer. */
  readonly size: number;
  readonly #keep: number;
  readonly #free: Buffer[] = [];

  /** Buffers of `size` bytes; at most `keep` idle ones are held for reuse. */
  constructor(size: number, keep: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`bad buffer size ${size}`);
    this.size = size;
    this.#keep = keep;
  }

  /** A buffer of `size` bytes with undefined contents: an idle one, or a new one. */
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Takes `buf` (as take() returned it, not a view of it) back for reuse. */
  give(buf: Buffer): void {
    if (buf.length !== this.size || buf.byteOffset !== 0 || buf.buffer.byteLength !== this.size) return;
    if (this.#free.length < this.#keep && !this.#free.includes(buf)) this.#free.push(buf);
  }

  /** Idle buffers held. */
  get idle(): number {
    return this.#free.length;
  }
}
