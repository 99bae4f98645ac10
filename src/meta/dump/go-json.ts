/**
 * JSON text exactly as Go's encoding/json writes it (Marshal and MarshalIndent), for output that
 * must be byte-identical to JuiceFS: the setting (spec §A) and the dump layout (spec §H.4).
 * Differences from JSON.stringify: `<`, `>`, `&`, U+2028/U+2029 are \u-escaped, invalid UTF-8
 * bytes become \ufffd, map keys are sorted as strings. Pure functions, no I/O.
 */
import { utf8SeqLen } from './escape.js';

/** An ordered JSON object (Go struct): keys are written in insertion order. */
export type GoObject = Map<string, GoValue>;
export type GoValue = null | boolean | number | bigint | string | Buffer | GoValue[] | GoObject;

const HEX = '0123456789abcdef';

/** Quotes raw bytes as a Go JSON string literal (a Buffer is Go's `string` holding any bytes). */
export function goQuoteBytes(b: Uint8Array): string {
  let s = '"';
  let start = 0;
  const flush = (end: number): void => {
    if (end > start) s += Buffer.from(b.subarray(start, end)).toString('utf8');
  };
  for (let i = 0; i < b.length;) {
    const c = b[i] ?? 0;
    if (c < 0x80) {
      let esc: string | null = null;
      if (c === 0x22) esc = '\\"';
      else if (c === 0x5c) esc = '\\\\';
      else if (c === 0x0a) esc = '\\n';
      else if (c === 0x0d) esc = '\\r';
      else if (c === 0x09) esc = '\\t';
      else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) esc = `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      if (esc !== null) {
        flush(i);
        s += esc;
        start = i + 1;
      }
      i += 1;
      continue;
    }
    const n = utf8SeqLen(b, i);
    if (n === 0) {
      flush(i);
      s += '\\ufffd';
      start = i + 1;
      i += 1;
      continue;
    }
    if (n === 3 && c === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) {
      flush(i);
      s += b[i + 2] === 0xa8 ? '\\u2028' : '\\u2029';
      start = i + 3;
    }
    i += n;
  }
  flush(b.length);
  return s + '"';
}

/** Quotes a JS string as Go would quote its UTF-8 encoding. */
export function goQuote(s: string): string {
  // Fast path: plain printable ASCII without characters Go escapes.
  if (/^[\x20-\x7e]*$/.test(s) && !/["\\<>&]/.test(s)) return `"${s}"`;
  return goQuoteBytes(Buffer.from(s, 'utf8'));
}

/**
 * Go's json.Marshal (indent === undefined) or json.MarshalIndent(v, "", indent).
 * `level` is the current nesting depth, for writing a fragment inside a larger indented document.
 */
export function goMarshal(v: GoValue, indent?: string, level = 0): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('JSON cannot hold a non-finite number');
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return goQuote(v);
  if (Buffer.isBuffer(v)) return goQuoteBytes(v);
  const nl = indent === undefined ? '' : '\n' + indent.repeat(level + 1);
  const close = indent === undefined ? '' : '\n' + indent.repeat(level);
  const colon = indent === undefined ? ':' : ': ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => nl + goMarshal(x, indent, level + 1)).join(',') + close + ']';
  }
  if (v.size === 0) return '{}';
  const parts: string[] = [];
  for (const [k, x] of v) parts.push(nl + goQuote(k) + colon + goMarshal(x, indent, level + 1));
  return '{' + parts.join(',') + close + '}';
}

/** A Go map: an object whose keys are sorted by their string form (Go sorts integer keys as text too). */
export function goMap(entries: Iterable<[string | number | bigint, GoValue]>): GoObject {
  const list = [...entries].map(([k, v]): [string, GoValue] => [String(k), v]);
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(list);
}
