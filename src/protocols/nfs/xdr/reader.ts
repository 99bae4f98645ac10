/**
 * XDR decoder (RFC 4506) over one in-memory Buffer: big-endian 4-byte units, opaque data and
 * strings padded to a multiple of 4. Pure codec, no I/O. Every read is bounds-checked and every
 * variable length has a caller-given maximum; a violation throws XdrDecodeError, which the RPC
 * dispatcher answers with GARBAGE_ARGS. Strings are returned as bytes (NFS names are not text).
 */

/** Malformed or truncated XDR input. Not an errno: the RPC layer maps it to GARBAGE_ARGS. */
export class XdrDecodeError extends Error {
  override readonly name = 'XdrDecodeError';
  readonly code = 'ERR_XDR_DECODE';

  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
  }
}

/** Bytes of padding after `length` bytes of opaque data (RFC 4506 §4.10). */
export const xdrPad = (length: number): number => (4 - (length & 3)) & 3;

export class XdrReader {
  readonly #buf: Buffer;
  #pos: number;

  constructor(buf: Buffer, offset = 0) {
    this.#buf = buf;
    this.#pos = offset;
  }

  /** Current read position in bytes from the start of the buffer. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #need(n: number, what: string): number {
    if (n > this.#buf.length - this.#pos) {
      throw new XdrDecodeError(`${what}: need ${n} bytes, ${this.#buf.length - this.#pos} left`, this.#pos);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u32(): number {
    return this.#buf.readUInt32BE(this.#need(4, 'unsigned int'));
  }

  i32(): number {
    return this.#buf.readInt32BE(this.#need(4, 'int'));
  }

  u64(): bigint {
    return this.#buf.readBigUInt64BE(this.#need(8, 'unsigned hyper'));
  }

  i64(): bigint {
    return this.#buf.readBigInt64BE(this.#need(8, 'hyper'));
  }

  /** RFC 4506 §4.4: only 0 and 1 are valid. */
  bool(): boolean {
    const at = this.#pos;
    const v = this.u32();
    if (v > 1) throw new XdrDecodeError(`bool must be 0 or 1, got ${v}`, at);
    return v === 1;
  }

  /** A signed enum value; when `allowed` is given, any other value is a decode error. */
  enum<T extends number>(allowed?: ReadonlySet<number>): T {
    const at = this.#pos;
    const v = this.i32();
    if (allowed !== undefined && !allowed.has(v)) throw new XdrDecodeError(`enum value ${v} not allowed`, at);
    return v as T;
  }

  /** Fixed-length opaque[n]: a view into the input buffer (no copy), padding skipped. */
  opaqueFixed(length: number): Buffer {
    const at = this.#need(length + xdrPad(length), `opaque[${length}]`);
    return this.#buf.subarray(at, at + length);
  }

  /** Variable-length opaque<max>: a view into the input buffer (no copy). */
  opaque(max: number): Buffer {
    const at = this.#pos;
    const length = this.u32();
    if (length > max) throw new XdrDecodeError(`opaque length ${length} exceeds maximum ${max}`, at);
    return this.opaqueFixed(length);
  }

  /** string<max> as raw bytes; same wire form as opaque<max>. */
  string(max: number): Buffer {
    return this.opaque(max);
  }

  /** Optional data (`*T`, RFC 4506 §4.19): a bool, then the value when true; null otherwise. */
  optional<T>(read: (r: XdrReader) => T): T | null {
    return this.bool() ? read(this) : null;
  }

  /** Counted array T<max>. */
  array<T>(max: number, read: (r: XdrReader) => T): T[] {
    const at = this.#pos;
    const count = this.u32();
    if (count > max) throw new XdrDecodeError(`array count ${count} exceeds maximum ${max}`, at);
    // Each element takes at least 4 bytes, so a count the input cannot hold is rejected up front.
    if (count > this.remaining / 4) throw new XdrDecodeError(`array count ${count} exceeds the input`, at);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(read(this));
    return out;
  }

  /**
   * A linked list encoded as repeated optional entries (`*next`), as portmap DUMP and MOUNT
   * EXPORT use; at most `max` entries.
   */
  list<T>(max: number, read: (r: XdrReader) => T): T[] {
    const out: T[] = [];
    while (this.bool()) {
      if (out.length >= max) throw new XdrDecodeError(`list longer than ${max} entries`, this.#pos);
      out.push(read(this));
    }
    return out;
  }

  /** The unread rest of the input (a view, no copy); the reader is then at the end. */
  rest(): Buffer {
    const at = this.#pos;
    this.#pos = this.#buf.length;
    return this.#buf.subarray(at);
  }
}
