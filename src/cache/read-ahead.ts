/**
 * Sequential read-ahead policy (DESIGN.md "Read path"; JuiceFS --max-readahead, research (a)).
 * Pure logic, no I/O: a ReadAhead per open reader watches its read offsets and answers which
 * block-aligned file ranges to prefetch. The window starts at one block on sequential access,
 * grows each time the reader enters a new block having waited for its bytes (doubling up to four
 * blocks, then one block at a time, so a store that keeps up is not asked for more), is capped at maxReadAheadBytes (default 32 blocks, so one
 * reader keeps enough GETs in flight to fill the store even when the block at the head of the
 * line is slow) and drops to zero on random access. A shared ByteReserve caps read-ahead bytes
 * held over all readers (fetching or fetched and not read yet), and can draw from the global
 * buffer budget. The vfs maps the returned file ranges to slice blocks and fetches them.
 */

/** Default largest window, in blocks. */
export const DEFAULT_READ_AHEAD_BLOCKS = 32;
/** Below this many blocks a stalled reader's window doubles; above it, it grows by one block. */
const FAST_GROWTH_BLOCKS = 4;

/** A window of file bytes. */
export interface ByteSpan {
  offset: number;
  length: number;
}

/** Where read-ahead bytes are reserved; BufferBudget fits, or a dedicated ReadAheadLimit. */
export interface ByteReserve {
  /** Grants `bytes` without waiting, or returns false. */
  tryAcquire(bytes: number): boolean;
  /** Returns bytes granted by tryAcquire. */
  release(bytes: number): void;
}

/** A global cap on read-ahead bytes held; with a parent (the buffer budget) every grant is also taken from it. */
export class ReadAheadLimit implements ByteReserve {
  readonly capBytes: number;
  readonly #parent: ByteReserve | undefined;
  #inFlightBytes = 0;

  constructor(capBytes: number, parent?: ByteReserve) {
    this.capBytes = Math.max(0, capBytes);
    this.#parent = parent;
  }

  get inFlightBytes(): number {
    return this.#inFlightBytes;
  }

  tryAcquire(bytes: number): boolean {
    if (this.#inFlightBytes + bytes > this.capBytes) return false;
    if (this.#parent !== undefined && !this.#parent.tryAcquire(bytes)) return false;
    this.#inFlightBytes += bytes;
    return true;
  }

  release(bytes: number): void {
    const back = Math.min(bytes, this.#inFlightBytes);
    this.#inFlightBytes -= back;
    this.#parent?.release(back);
  }
}

export interface ReadAheadOptions {
  blockSizeBytes: number;
  /** Largest window (default 32 blocks); below one block disables read-ahead. */
  maxReadAheadBytes?: number;
  /** Shared cap; each returned range holds `range.length` bytes of it until the caller releases them. */
  reserve?: ByteReserve;
}

export class ReadAhead {
  readonly #blockBytes: number;
  readonly #maxBytes: number;
  readonly #reserve: ByteReserve | undefined;
  #started = false;
  #windowBytes = 0;
  #highWater = 0; // end of the furthest sequential read
  #horizon = 0; // end of what was already handed out for prefetch (or read)
  #lastBlock = -1; // block holding highWater - 1 when the window last grew

  constructor(opts: ReadAheadOptions) {
    if (!Number.isSafeInteger(opts.blockSizeBytes) || opts.blockSizeBytes <= 0) throw new RangeError(`bad block size ${opts.blockSizeBytes}`);
    this.#blockBytes = opts.blockSizeBytes;
    this.#maxBytes = opts.maxReadAheadBytes ?? DEFAULT_READ_AHEAD_BLOCKS * opts.blockSizeBytes;
    this.#reserve = opts.reserve;
  }

  /** Current window in bytes (0 after random access). */
  get windowBytes(): number {
    return this.#windowBytes;
  }

  /**
   * Records a read of [offset, offset+length) and returns the block-aligned ranges (at most one
   * block each, none past `fileSizeBytes`) to prefetch now, in file order. A read is sequential
   * when it starts at 0 as the first read, or no more than max(one block, the window) before the
   * furthest read end and not beyond what was already prefetched: clients keep several READs in
   * flight, and they may arrive out of order. The window doubles when the reader enters a new
   * block and `stalled` says this read had to wait for its bytes (they were not fetched ahead, or
   * not there yet); a reader the current window keeps fed does not grow it, so a fast store holds
   * few blocks per reader while a slow one gets the whole window.
   */
  onRead(offset: number, length: number, fileSizeBytes?: number, stalled = true): ByteSpan[] {
    const B = this.#blockBytes;
    const end = offset + length;
    const sequential = this.#started
      ? offset >= this.#highWater - Math.max(B, this.#windowBytes) && offset <= Math.max(this.#highWater, this.#horizon)
      : offset === 0;
    this.#started = true;
    if (!sequential || this.#maxBytes < B) {
      this.#windowBytes = 0;
      this.#highWater = end;
      this.#horizon = end;
      this.#lastBlock = Math.floor((end - 1) / B);
      return [];
    }
    this.#highWater = Math.max(this.#highWater, end);
    const block = Math.floor((this.#highWater - 1) / B);
    if (this.#windowBytes === 0) {
      this.#windowBytes = B;
      this.#lastBlock = block;
    } else if (block > this.#lastBlock) {
      if (stalled) this.#windowBytes = Math.min(this.#windowBytes < FAST_GROWTH_BLOCKS * B ? 2 * this.#windowBytes : this.#windowBytes + B, this.#maxBytes);
      this.#lastBlock = block;
    }
    let target = alignUp(this.#highWater + this.#windowBytes, B);
    if (fileSizeBytes !== undefined) target = Math.min(target, fileSizeBytes);
    const ranges: ByteSpan[] = [];
    for (let at = Math.max(this.#horizon, alignUp(this.#highWater, B)); at < target; at += B) {
      const len = Math.min(B, target - at);
      if (this.#reserve !== undefined && !this.#reserve.tryAcquire(len)) break;
      ranges.push({ offset: at, length: len });
      this.#horizon = at + len;
    }
    return ranges;
  }
}

const alignUp = (n: number, unit: number): number => Math.ceil(n / unit) * unit;
