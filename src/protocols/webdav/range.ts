/**
 * Byte ranges (RFC 7233): the Range header against a representation length, If-Range, the
 * Content-Range values and the framing of a multipart/byteranges body (§4.1, Appendix A), and the
 * Content-Range of a partial PUT (RFC 9110 §14.5). Pure functions: the GET and PUT handlers
 * stream the bytes; here we only decide which and how to frame them.
 */
import { randomBytes } from 'node:crypto';
import { httpError, type HttpError } from './status.js';
import { parseHttpDate } from './conditional.js';

/** An inclusive byte range within the representation, start <= end < size. */
export interface ByteRange {
  /** First byte offset. */
  readonly start: number;
  /** Last byte offset, inclusive. */
  readonly end: number;
}

/** What to send for a GET: the whole body, some ranges (206), or 416. */
export type RangeDecision =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] }
  | { readonly kind: 'unsatisfiable' };

/** Options of parseRange. */
export interface RangeOptions {
  /** More ranges than this (after merging) is answered with the full body (default 16). */
  readonly maxRanges?: number;
}

/**
 * Applies a Range header to a representation of `size` bytes. Absent, a unit other than bytes,
 * or syntactically invalid: full (a server may ignore Range, §3.1). Overlapping or adjacent ranges
 * are merged in ascending order (§4.1 allows coalescing). None satisfiable: unsatisfiable (§4.4).
 */
export function parseRange(value: string | undefined, size: number, options: RangeOptions = {}): RangeDecision {
  if (value === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(value);
  if (m === null || m[1] === undefined) return { kind: 'full' };
  const specs = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'full' };
  const ranges: ByteRange[] = [];
  let anySuffix = false;
  for (const spec of specs) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (r === null) return { kind: 'full' };
    const [, first = '', last = ''] = r;
    if (first === '') {
      if (last === '') return { kind: 'full' };
      const n = Number(last);
      anySuffix ||= n > 0;
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(first);
      const end = last === '' ? size - 1 : Number(last);
      if (last !== '' && end < start) return { kind: 'full' };
      if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
    }
  }
  if (ranges.length === 0) {
    // A non-zero suffix on an empty representation is satisfiable per §2.1, but has no bytes.
    return size === 0 && anySuffix ? { kind: 'full' } : { kind: 'unsatisfiable' };
  }
  const merged = mergeRanges(ranges);
  if (merged.length > (options.maxRanges ?? 16)) return { kind: 'full' };
  return { kind: 'partial', ranges: merged };
}

function mergeRanges(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end + 1) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

/** The 416 error, carrying the unsatisfied-range form of Content-Range (§4.4). */
export function rangeNotSatisfiable(size: number): HttpError {
  return httpError('RANGE_NOT_SATISFIABLE', undefined, { headers: { 'Content-Range': `bytes */${size}` } });
}

/** Content-Range value of one part: `bytes 0-499/1234`. */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** The validators of the current representation, as GET would send them. */
export interface Validators {
  /** Strong ETag, quoted. */
  readonly etag: string | null;
  /** Last-Modified as sent (compared in whole seconds). */
  readonly lastModified: Date | null;
}

/**
 * If-Range (§3.2): true when Range may be honoured. An entity tag must match strongly (a weak tag
 * never does); a date must equal Last-Modified exactly. Absent: true. Unparseable: false (full).
 */
export function ifRangeAllows(value: string | undefined, v: Validators): boolean {
  if (value === undefined) return true;
  const t = value.trim();
  if (t.startsWith('"') || t.startsWith('W/')) return !t.startsWith('W/') && v.etag !== null && !v.etag.startsWith('W/') && t === v.etag;
  const date = parseHttpDate(t);
  return date !== null && v.lastModified !== null && Math.floor(v.lastModified.getTime() / 1000) === date.getTime() / 1000;
}

/** The framing of a multipart/byteranges body; the handler writes head, bytes, head, bytes..., tail. */
export interface MultipartPlan {
  /** Value of the response's Content-Type. */
  readonly contentType: string;
  /** Per range: the part header to write, then the range's bytes. */
  readonly parts: readonly { readonly head: string; readonly range: ByteRange }[];
  /** Closing delimiter written after the last part. */
  readonly tail: string;
  /** Exact body length, for Content-Length. */
  readonly contentLength: number;
}

/** Plans a multipart/byteranges response (§4.1, Appendix A) for two or more ranges. */
export function multipartByteranges(ranges: readonly ByteRange[], size: number, partType: string, boundary = randomBytes(12).toString('hex')): MultipartPlan {
  let length = 0;
  const parts = ranges.map((range, idx) => {
    const head = `${idx === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: ${contentRange(range, size)}\r\n\r\n`;
    length += Buffer.byteLength(head) + (range.end - range.start + 1);
    return { head, range };
  });
  const tail = `\r\n--${boundary}--\r\n`;
  length += Buffer.byteLength(tail);
  return { contentType: `multipart/byteranges; boundary=${boundary}`, parts, tail, contentLength: length };
}

/** Where the body of a partial PUT goes (RFC 9110 §14.5): bytes first..last, inclusive. */
export interface PutRange {
  readonly first: number;
  readonly last: number;
  /** The complete length the client states, null for `*`. */
  readonly complete: number | null;
}

/**
 * Parses the Content-Range of a PUT: `bytes FIRST-LAST/COMPLETE` or `bytes FIRST-LAST/*`, with
 * FIRST <= LAST < COMPLETE; anything else (incl. the unsatisfied-range form, `*` before the slash) is 400.
 */
export function parsePutContentRange(value: string): PutRange {
  const m = /^\s*bytes\s+(\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)\s*$/i.exec(value);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  const complete = m?.[3] === undefined || m[3] === '*' ? null : Number(m[3]);
  if (m === null || first > last || (complete !== null && last >= complete)) throw httpError('BAD_CONTENT_RANGE', JSON.stringify(value));
  return { first, last, complete };
}
