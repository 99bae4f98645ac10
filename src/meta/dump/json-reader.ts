/**
 * A small pull-based JSON reader over a byte stream, for loading dumps (spec §H) of any size:
 * it holds one input chunk (plus a partial token) at a time, yields strings as raw UTF-8 bytes
 * (so §H.3 unescaping works on bytes) and keeps integers beyond 2^53 exact as bigint
 * (trash inodes are 0x7FFFFFFF1xxxxxxx). It validates syntax; it does not build whole documents.
 */
import { Errno, FsError } from '../../util/errno.js';

/** A decoded JSON value; objects keep text keys, integers outside the safe range are bigint. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

type Source = AsyncIterator<Buffer | string | Uint8Array>;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

export class JsonReader {
  #src: Source | null;
  #buf: Buffer;
  #pos = 0;
  /** Bytes dropped from the front of #buf so far, for error offsets. */
  #base = 0;
  /** Per open container: whether a first element was already read (commas before the next). */
  readonly #started: boolean[] = [];

  constructor(input: Buffer | AsyncIterable<Buffer | string | Uint8Array>) {
    if (Buffer.isBuffer(input)) {
      this.#buf = input;
      this.#src = null;
    } else {
      this.#buf = Buffer.alloc(0);
      this.#src = input[Symbol.asyncIterator]();
    }
  }

  #error(msg: string): FsError {
    return new FsError(Errno.EINVAL, `dump JSON at byte ${this.#base + this.#pos}: ${msg}`);
  }

  /** Appends the next input chunk; false at end of input. */
  async #more(): Promise<boolean> {
    if (this.#src === null) return false;
    const r = await this.#src.next();
    if (r.done === true) {
      this.#src = null;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : Buffer.from(r.value);
    const rest = this.#buf.subarray(this.#pos);
    this.#base += this.#pos;
    this.#buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    this.#pos = 0;
    return true;
  }

  /** Next non-whitespace byte without consuming it; -1 at end of input. */
  async #peek(): Promise<number> {
    for (;;) {
      while (this.#pos < this.#buf.length) {
        const c = this.#buf[this.#pos] ?? 0;
        if (!WS.has(c)) return c;
        this.#pos++;
      }
      if (!(await this.#more())) return -1;
    }
  }

  async #expect(c: number): Promise<void> {
    const got = await this.#peek();
    if (got !== c) throw this.#error(`expected '${String.fromCharCode(c)}', found ${got < 0 ? 'end of input' : `'${String.fromCharCode(got)}'`}`);
    this.#pos++;
  }

  /** Consumes the comma between elements; returns false (consuming the closer) at the end. */
  async #nextElement(closer: number): Promise<boolean> {
    const c = await this.#peek();
    const started = this.#started[this.#started.length - 1];
    if (started === undefined) throw this.#error('no open container');
    if (c === closer) {
      this.#pos++;
      this.#started.pop();
      return false;
    }
    if (started) {
      if (c !== 0x2c) throw this.#error(`expected ',' or '${String.fromCharCode(closer)}'`);
      this.#pos++;
    }
    this.#started[this.#started.length - 1] = true;
    return true;
  }

  /** Consumes `{`. Follow with nextKey() until it returns null. */
  async beginObject(): Promise<void> {
    await this.#expect(0x7b);
    this.#started.push(false);
  }

  /** The next key (raw UTF-8 bytes, JSON escapes decoded) with its `:` consumed; null after `}`. */
  async nextKey(): Promise<Buffer | null> {
    if (!(await this.#nextElement(0x7d))) return null;
    const key = await this.readStringBytes();
    await this.#expect(0x3a);
    return key;
  }

  /** Consumes `[`. Follow with nextItem() until it returns false. */
  async beginArray(): Promise<void> {
    await this.#expect(0x5b);
    this.#started.push(false);
  }

  /** True when another array element follows (positioned at it); false after `]`. */
  async nextItem(): Promise<boolean> {
    return this.#nextElement(0x5d);
  }

  /** Kind of the next value: '{', '[', '"', 'n' (number), 't'/'f'/'l' (true/false/null), or '' at end. */
  async peekKind(): Promise<string> {
    const c = await this.#peek();
    if (c < 0) return '';
    if (c === 0x7b || c === 0x5b || c === 0x22) return String.fromCharCode(c);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'n';
    if (c === 0x74) return 't';
    if (c === 0x66) return 'f';
    if (c === 0x6e) return 'l';
    throw this.#error(`unexpected '${String.fromCharCode(c)}'`);
  }

  /** A JSON string as the UTF-8 bytes of its value (escapes decoded; raw bytes copied as they are). */
  async readStringBytes(): Promise<Buffer> {
    await this.#expect(0x22);
    const out: Buffer[] = [];
    let pendingHigh = -1;
    for (;;) {
      const buf = this.#buf;
      let i = this.#pos;
      while (i < buf.length) {
        const c = buf[i] ?? 0;
        if (c === 0x22 || c === 0x5c) break;
        if (c < 0x20) throw this.#error('control character in string');
        i++;
      }
      if (i > this.#pos) {
        if (pendingHigh >= 0) {
          out.push(Buffer.from('\ufffd', 'utf8'));
          pendingHigh = -1;
        }
        out.push(buf.subarray(this.#pos, i));
      }
      this.#pos = i;
      if (i >= buf.length) {
        if (!(await this.#more())) throw this.#error('unterminated string');
        continue;
      }
      if (buf[i] === 0x22) {
        this.#pos++;
        if (pendingHigh >= 0) out.push(Buffer.from('\ufffd', 'utf8'));
        return out.length === 1 && out[0] !== undefined ? Buffer.from(out[0]) : Buffer.concat(out);
      }
      // backslash escape: make sure the whole escape is buffered
      while (this.#buf.length - this.#pos < 6 && (await this.#more()));
      const b = this.#buf;
      const e = b[this.#pos + 1];
      if (e === 0x75) {
        const hex = b.subarray(this.#pos + 2, this.#pos + 6).toString('latin1');
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.#error('bad \\u escape');
        const u = parseInt(hex, 16);
        this.#pos += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
          if (pendingHigh >= 0) out.push(Buffer.from('\ufffd', 'utf8'));
          pendingHigh = u;
          continue;
        }
        if (u >= 0xdc00 && u <= 0xdfff && pendingHigh >= 0) {
          const cp = 0x10000 + ((pendingHigh - 0xd800) << 10) + (u - 0xdc00);
          out.push(Buffer.from(String.fromCodePoint(cp), 'utf8'));
          pendingHigh = -1;
          continue;
        }
        if (pendingHigh >= 0) out.push(Buffer.from('\ufffd', 'utf8'));
        pendingHigh = -1;
        out.push(Buffer.from(u >= 0xd800 && u <= 0xdfff ? '\ufffd' : String.fromCharCode(u), 'utf8'));
        continue;
      }
      if (pendingHigh >= 0) {
        out.push(Buffer.from('\ufffd', 'utf8'));
        pendingHigh = -1;
      }
      const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
      const v = e === undefined ? undefined : simple[e];
      if (v === undefined) throw this.#error('bad escape in string');
      out.push(Buffer.from([v]));
      this.#pos += 2;
    }
  }

  /** A JSON string decoded as UTF-8 text. */
  async readString(): Promise<string> {
    return (await this.readStringBytes()).toString('utf8');
  }

  /** A number's literal text, validated. */
  async readNumberText(): Promise<string> {
    if ((await this.peekKind()) !== 'n') throw this.#error('expected a number');
    let text = '';
    for (;;) {
      const buf = this.#buf;
      let i = this.#pos;
      while (i < buf.length && isNumberByte(buf[i] ?? 0)) i++;
      text += buf.subarray(this.#pos, i).toString('latin1');
      this.#pos = i;
      if (i < buf.length || !(await this.#more())) break;
    }
    if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(text)) throw this.#error(`bad number '${text}'`);
    return text;
  }

  /** An integer as bigint (EINVAL for fractions). */
  async readBigInt(): Promise<bigint> {
    const t = await this.readNumberText();
    if (!/^-?[0-9]+$/.test(t)) throw this.#error(`expected an integer, found ${t}`);
    return BigInt(t);
  }

  async #literal(word: string): Promise<void> {
    while (this.#buf.length - this.#pos < word.length && (await this.#more()));
    if (this.#buf.subarray(this.#pos, this.#pos + word.length).toString('latin1') !== word) throw this.#error(`expected ${word}`);
    this.#pos += word.length;
  }

  /** Any value, fully decoded (use for small values only: it is built in memory). */
  async readValue(): Promise<JsonValue> {
    switch (await this.peekKind()) {
      case '{': {
        const obj: { [key: string]: JsonValue } = {};
        await this.beginObject();
        for (let k = await this.nextKey(); k !== null; k = await this.nextKey()) obj[k.toString('utf8')] = await this.readValue();
        return obj;
      }
      case '[': {
        const arr: JsonValue[] = [];
        await this.beginArray();
        while (await this.nextItem()) arr.push(await this.readValue());
        return arr;
      }
      case '"':
        return this.readString();
      case 'n': {
        const t = await this.readNumberText();
        if (/^-?[0-9]+$/.test(t)) {
          const n = Number(t);
          return Number.isSafeInteger(n) ? n : BigInt(t);
        }
        return Number(t);
      }
      case 't':
        await this.#literal('true');
        return true;
      case 'f':
        await this.#literal('false');
        return false;
      case 'l':
        await this.#literal('null');
        return null;
      default:
        throw this.#error('unexpected end of input');
    }
  }

  /** Skips one value of any kind without building it. */
  async skipValue(): Promise<void> {
    const k = await this.peekKind();
    if (k === '{') {
      await this.beginObject();
      while ((await this.nextKey()) !== null) await this.skipValue();
    } else if (k === '[') {
      await this.beginArray();
      while (await this.nextItem()) await this.skipValue();
    } else {
      await this.readValue();
    }
  }

  /** Requires that only whitespace remains. */
  async end(): Promise<void> {
    const c = await this.#peek();
    if (c >= 0) throw this.#error('trailing data after the document');
  }
}
