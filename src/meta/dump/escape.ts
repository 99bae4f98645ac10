/**
 * Byte-level escaping of names, symlink targets and xattr values in the dump JSON (spec §H.3).
 * Names are arbitrary bytes (GBK, Latin-1...), JSON strings are text: escaping keeps every byte
 * recoverable. Works on Buffers only; it must never round-trip through a lossy JS string decode.
 * Also: the UTF-8 walk shared with the Go-compatible JSON quoting in go-json.ts.
 */

const HEX = '0123456789ABCDEF';

/**
 * Length of the valid UTF-8 sequence starting at `b[i]`, or 0 when the byte there does not start
 * one. Follows Go's utf8.DecodeRune: no overlongs, no surrogates, nothing above U+10FFFF.
 */
export function utf8SeqLen(b: Uint8Array, i: number): number {
  const c0 = b[i] ?? 0;
  if (c0 < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = b[i + j];
    return c !== undefined && c >= lo && c <= hi;
  };
  if (c0 >= 0xc2 && c0 <= 0xdf) return cont(1) ? 2 : 0;
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function needsEscape(c: number): boolean {
  return c <= 0x20 || c === 0x25 /* % */ || c === 0x22 /* " */ || c === 0x5c /* \ */;
}

/**
 * Escapes raw bytes for the dump: each byte of an invalid UTF-8 sequence, every code point
 * <= 0x20, `%`, `"` and `\` become `%XX` (upper-case hex); everything else is copied.
 * A valid U+FFFD is copied as it is (JuiceFS mangles it to a lone `%EF`; we keep it intact).
 */
export function escapeBytes(raw: Uint8Array): string {
  let out: number[] | null = null;
  for (let i = 0; i < raw.length;) {
    const n = utf8SeqLen(raw, i);
    const c = raw[i] ?? 0;
    if (n === 0 || (n === 1 && needsEscape(c))) {
      if (out === null) out = Array.from(raw.subarray(0, i));
      out.push(0x25, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 0xf));
      i += 1;
      continue;
    }
    if (out !== null) for (let j = 0; j < n; j++) out.push(raw[i + j] ?? 0);
    i += n;
  }
  return Buffer.from(out ?? raw).toString('utf8');
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Inverse of escapeBytes over the UTF-8 bytes of a JSON string: `%` followed by two upper-case
 * hex digits becomes that byte; anything else (lower-case hex, a lone `%`) stays literal.
 */
export function unescapeBytes(text: Uint8Array): Buffer {
  if (!text.includes(0x25)) return Buffer.from(text);
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text[i] ?? 0;
    if (c === 0x25) {
      const h = hexValue(text[i + 1]);
      const l = hexValue(text[i + 2]);
      if (h >= 0 && l >= 0) {
        c = h * 16 + l;
        i += 2;
      }
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/** unescapeBytes for a JS string (the string is UTF-8 encoded first, as §H.3 requires). */
export function unescapeString(text: string): Buffer {
  return unescapeBytes(Buffer.from(text, 'utf8'));
}
