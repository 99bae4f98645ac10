/**
 * XDR encoder (RFC 4506): a growing buffer of big-endian 4-byte units with opaque data padded to
 * 4 bytes. reserve()/patchU32() leave room for a length or record mark that is known only once
 * the body is written. Pure codec, no I/O; it checks the writer's own limits (max lengths) so an
 * encoder bug cannot put a value on the wire that the peer must reject.
 */
import { xdrPad } from './reader.js';

const MAX_U32 = 0xffffffff;
const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

export class XdrWriter {
  #buf: Buffer;
  #len = 0;

  constructor(initialBytes = 256) {
    this.#buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /**
   * Makes room for `n` more bytes and returns their offset. It may replace #buf, so callers must
   * call it before reading #buf (not inside `this.#buf.write...(v, this.#ensure(n))`).
   */
  #ensure(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.#buf.copy(grown, 0, 0, this.#len);
      this.#buf = grown;
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw new RangeError(`unsigned int out of range: ${v}`);
    const at = this.#ensure(4);
    this.#buf.writeUInt32BE(v, at);
    return this;
  }

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`int out of range: ${v}`);
    const at = this.#ensure(4);
    this.#buf.writeInt32BE(v, at);
    return this;
  }

  /** unsigned hyper; numbers must be safe non-negative integers. */
  u64(v: bigint | number): this {
    const b = BigInt(v);
    if (b < 0n || b > MAX_U64) throw new RangeError(`unsigned hyper out of range: ${b}`);
    const at = this.#ensure(8);
    this.#buf.writeBigUInt64BE(b, at);
    return this;
  }

  i64(v: bigint | number): this {
    const b = BigInt(v);
    if (b < MIN_I64 || b > MAX_I64) throw new RangeError(`hyper out of range: ${b}`);
    const at = this.#ensure(8);
    this.#buf.writeBigInt64BE(b, at);
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  enum(v: number): this {
    return this.i32(v);
  }

  /** opaque[n]: exactly `length` bytes then padding. */
  opaqueFixed(data: Uint8Array, length = data.length): this {
    if (data.length !== length) throw new RangeError(`opaque[${length}] given ${data.length} bytes`);
    const pad = xdrPad(length);
    const at = this.#ensure(length + pad);
    this.#buf.set(data, at);
    this.#buf.fill(0, at + length, at + length + pad);
    return this;
  }

  /** opaque<max>: length, bytes, padding. */
  opaque(data: Uint8Array, max = MAX_U32): this {
    if (data.length > max) throw new RangeError(`opaque length ${data.length} exceeds maximum ${max}`);
    this.u32(data.length);
    return this.opaqueFixed(data);
  }

  /** string<max> from bytes, or from a JS string encoded as UTF-8. */
  string(s: Uint8Array | string, max = MAX_U32): this {
    return this.opaque(typeof s === 'string' ? Buffer.from(s, 'utf8') : s, max);
  }

  /** Optional data (`*T`): false, or true followed by the value. */
  optional<T>(v: T | null | undefined, write: (w: XdrWriter, v: T) => void): this {
    if (v === null || v === undefined) return this.bool(false);
    this.bool(true);
    write(this, v);
    return this;
  }

  /** Counted array T<max>. */
  array<T>(items: readonly T[], write: (w: XdrWriter, v: T) => void, max = MAX_U32): this {
    if (items.length > max) throw new RangeError(`array count ${items.length} exceeds maximum ${max}`);
    this.u32(items.length);
    for (const it of items) write(this, it);
    return this;
  }

  /** Linked list as repeated optional entries (`*next`), terminated by false. */
  list<T>(items: Iterable<T>, write: (w: XdrWriter, v: T) => void): this {
    for (const it of items) {
      this.bool(true);
      write(this, it);
    }
    return this.bool(false);
  }

  /** Appends bytes that are already XDR-encoded (their length must be a multiple of 4). */
  raw(data: Uint8Array): this {
    if ((data.length & 3) !== 0) throw new RangeError(`raw XDR of ${data.length} bytes is not 4-aligned`);
    const at = this.#ensure(data.length);
    this.#buf.set(data, at);
    return this;
  }

  /** Reserves `bytes` (a multiple of 4) to be filled later; returns their offset. */
  reserve(bytes = 4): number {
    if ((bytes & 3) !== 0) throw new RangeError(`reserve(${bytes}) is not 4-aligned`);
    const at = this.#ensure(bytes);
    this.#buf.fill(0, at, at + bytes);
    return at;
  }

  /** Writes an unsigned int at an offset returned by reserve(). */
  patchU32(offset: number, v: number): this {
    if (offset < 0 || offset + 4 > this.#len) throw new RangeError(`patch offset ${offset} outside the written data`);
    if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw new RangeError(`unsigned int out of range: ${v}`);
    this.#buf.writeUInt32BE(v, offset);
    return this;
  }

  /** The encoded bytes: a view of the internal buffer, valid until the next write. */
  view(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }

  /** A copy of the encoded bytes, trimmed to their length. */
  toBuffer(): Buffer {
    return Buffer.from(this.view());
  }
}
