/**
 * ONC RPC record marking over TCP (RFC 5531 §11): each record is one or more fragments, each
 * behind a 4-byte big-endian header whose top bit marks the last fragment and whose low 31 bits
 * give the fragment length. Pure codec, no I/O: the decoder is fed socket chunks and hands back
 * whole records; it never buffers more than `maxRecordBytes` of one record (the limit is ours,
 * not the peer's) and throws RecordTooLargeError instead, after which the connection must close.
 * A record spanning chunks is copied once, into a RecordPool buffer when one is given; a decoder
 * fed from one reused read buffer (`transient`) copies every record it hands back.
 */

const LAST_FRAGMENT = 0x80000000;
const MAX_FRAGMENT = 0x7fffffff;

/** A record grew past the configured limit; the stream cannot be resynchronised. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  readonly code = 'ERR_RPC_RECORD_TOO_LARGE';

  constructor(readonly recordBytes: number, readonly maxRecordBytes: number) {
    super(`RPC record of at least ${recordBytes} bytes exceeds the limit of ${maxRecordBytes} bytes`);
  }
}

/**
 * Reusable buffers for records that arrive in several socket chunks (WRITE data): a buffer given
 * back after its call is done is the next record's, so large calls do not each leave a fresh
 * allocation to the GC. Only buffers handed out by take() are accepted back, each once; one never
 * given back (a call that keeps its arguments, a closed connection) is simply left to the GC.
 */
export class RecordPool {
  readonly #minBytes: number;
  readonly #capacity: number;
  readonly #maxIdle: number;
  readonly #idle: ArrayBuffer[] = [];
  readonly #out = new WeakSet<ArrayBufferLike>();

  /** Records of [minBytes, capacity] bytes are pooled; at most `maxIdle` buffers are kept idle. */
  constructor(minBytes: number, capacity: number, maxIdle: number) {
    this.#minBytes = minBytes;
    this.#capacity = capacity;
    this.#maxIdle = maxIdle;
  }

  /** A buffer of exactly `size` bytes from the pool, or undefined when `size` is not pooled. */
  take(size: number): Buffer | undefined {
    if (size < this.#minBytes || size > this.#capacity) return undefined;
    const ab = this.#idle.pop() ?? new ArrayBuffer(this.#capacity);
    this.#out.add(ab);
    return Buffer.from(ab, 0, size);
  }

  /**
   * Takes back a record from take() once nothing refers to its bytes any more (a no-op for other
   * buffers and for a second give of the same one).
   */
  give(record: Buffer): void {
    if (!this.#out.delete(record.buffer)) return;
    if (this.#idle.length < this.#maxIdle && record.buffer instanceof ArrayBuffer) this.#idle.push(record.buffer);
  }
}

export class RecordDecoder {
  readonly #maxRecordBytes: number;
  readonly #pool: RecordPool | undefined;
  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  /** Bytes still expected for the current fragment body; -1 while reading a header. */
  #fragmentLeft = -1;
  #lastFragment = false;
  #parts: Buffer[] = [];
  #recordBytes = 0;
  /** The pooled buffer a single-fragment record is being copied into, with #recordBytes filled. */
  #direct: Buffer | undefined;

  readonly #transient: boolean;

  /**
   * Records spanning chunks are assembled in `pool` buffers when given (see RecordPool). With
   * `transient`, chunk memory is reused by the caller after push() returns: records are copies.
   */
  constructor(maxRecordBytes: number, pool?: RecordPool, transient = false) {
    this.#maxRecordBytes = maxRecordBytes;
    this.#pool = pool;
    this.#transient = transient;
  }

  /** True when no partial record is buffered (a clean place for the stream to end). */
  get idle(): boolean {
    return this.#fragmentLeft === -1 && this.#headerFill === 0 && this.#parts.length === 0 && this.#recordBytes === 0;
  }

  /**
   * Feeds one chunk; returns the records it completed, in order. Unless `transient`, keeps
   * references to `chunk` (no copy for records inside one chunk), so callers must not reuse chunk
   * memory. A record may be a RecordPool buffer: the caller gives it back once its call is done with it.
   */
  push(chunk: Buffer): Buffer[] {
    const records: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#fragmentLeft === -1) {
        const take = Math.min(4 - this.#headerFill, chunk.length - pos);
        chunk.copy(this.#header, this.#headerFill, pos, pos + take);
        this.#headerFill += take;
        pos += take;
        if (this.#headerFill < 4) break;
        this.#headerFill = 0;
        const mark = this.#header.readUInt32BE(0);
        this.#lastFragment = (mark & LAST_FRAGMENT) !== 0;
        this.#fragmentLeft = mark & MAX_FRAGMENT;
        if (this.#recordBytes + this.#fragmentLeft > this.#maxRecordBytes) {
          throw new RecordTooLargeError(this.#recordBytes + this.#fragmentLeft, this.#maxRecordBytes);
        }
        // a whole record in one fragment that this chunk does not hold (or any, when chunks are
        // transient): copy it as it arrives
        if (this.#lastFragment && this.#parts.length === 0 && (this.#transient || this.#fragmentLeft > chunk.length - pos)) {
          this.#direct = this.#pool?.take(this.#fragmentLeft) ?? (this.#transient ? Buffer.allocUnsafe(this.#fragmentLeft) : undefined);
        }
      }
      const take = Math.min(this.#fragmentLeft, chunk.length - pos);
      if (take > 0 && this.#direct !== undefined) {
        chunk.copy(this.#direct, this.#recordBytes, pos, pos + take);
        this.#recordBytes += take;
        this.#fragmentLeft -= take;
        pos += take;
      } else if (take > 0) {
        const part = chunk.subarray(pos, pos + take);
        this.#parts.push(this.#transient ? Buffer.from(part) : part);
        this.#recordBytes += take;
        this.#fragmentLeft -= take;
        pos += take;
      }
      if (this.#fragmentLeft === 0) {
        this.#fragmentLeft = -1;
        if (this.#lastFragment) records.push(this.#takeRecord());
      }
    }
    return records;
  }

  #takeRecord(): Buffer {
    const direct = this.#direct;
    if (direct !== undefined) {
      this.#direct = undefined;
      this.#recordBytes = 0;
      return direct;
    }
    const parts = this.#parts;
    this.#parts = [];
    this.#recordBytes = 0;
    if (parts.length === 1 && parts[0] !== undefined) return parts[0];
    return Buffer.concat(parts);
  }
}

/** The 4-byte record mark for a fragment of `length` bytes. */
export function recordMark(length: number, last = true): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAGMENT) throw new RangeError(`fragment length out of range: ${length}`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE((last ? LAST_FRAGMENT : 0) + length, 0);
  return b;
}

/**
 * Frames one record whose body is the concatenation of `body` as fragments of at most
 * `maxFragmentBytes`; returns the buffers to write in order (marks and body views, no copy).
 */
export function encodeRecord(body: readonly Buffer[] | Buffer, maxFragmentBytes = MAX_FRAGMENT): Buffer[] {
  if (maxFragmentBytes < 1 || maxFragmentBytes > MAX_FRAGMENT) throw new RangeError(`bad fragment size ${maxFragmentBytes}`);
  const parts = Buffer.isBuffer(body) ? [body] : body;
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total <= maxFragmentBytes) return [recordMark(total, true), ...parts];
  const out: Buffer[] = [];
  let left = total;
  let fragmentLeft = 0;
  for (const part of parts) {
    let pos = 0;
    while (pos < part.length) {
      if (fragmentLeft === 0) {
        fragmentLeft = Math.min(maxFragmentBytes, left);
        out.push(recordMark(fragmentLeft, fragmentLeft === left));
      }
      const take = Math.min(fragmentLeft, part.length - pos);
      out.push(part.subarray(pos, pos + take));
      pos += take;
      fragmentLeft -= take;
      left -= take;
    }
  }
  return out;
}
