/**
 * HTTP conditional requests (RFC 7232): If-Match, If-None-Match, If-Modified-Since and
 * If-Unmodified-Since evaluated in the order of §6, with strong and weak entity-tag comparison
 * (§2.3.2) and HTTP-date parsing (RFC 7231 §7.1.1.1). Pure: the caller supplies the resource's
 * current validators and acts on the outcome (304, 412 or proceed).
 */

/** Current state of the target resource. */
export interface ConditionalState {
  /** False when the target does not exist (e.g. PUT creating it). */
  readonly exists: boolean;
  /** Current entity tag, quoted (W/ prefix if weak); null if none. */
  readonly etag: string | null;
  /** Last modification (compared in whole seconds); null if unknown. */
  readonly lastModified: Date | null;
}

/** The four precondition headers, as received (undefined when absent). */
export interface ConditionalHeaders {
  /** If-Match: '*' or a list of entity tags, compared strongly. */
  readonly ifMatch?: string | undefined;
  /** If-None-Match: '*' or a list of entity tags, compared weakly. */
  readonly ifNoneMatch?: string | undefined;
  /** If-Modified-Since: an HTTP-date; GET/HEAD only. */
  readonly ifModifiedSince?: string | undefined;
  /** If-Unmodified-Since: an HTTP-date. */
  readonly ifUnmodifiedSince?: string | undefined;
}

/** 'proceed', or the status to answer with instead of performing the method. */
export type ConditionalOutcome = 'proceed' | 304 | 412;

/** A parsed entity tag. */
interface ETag {
  readonly weak: boolean;
  /** The quoted opaque part. */
  readonly opaque: string;
}

function parseETag(s: string): ETag | null {
  const m = /^(W\/)?("[^"]*")$/.exec(s.trim());
  if (m === null || m[2] === undefined) return null;
  return { weak: m[1] !== undefined, opaque: m[2] };
}

/** Splits an If-Match/If-None-Match list; '*' is returned as such, malformed members dropped. */
function parseETagList(value: string): '*' | ETag[] {
  if (value.trim() === '*') return '*';
  const out: ETag[] = [];
  for (const m of value.matchAll(/(?:W\/)?"[^"]*"/g)) {
    const t = parseETag(m[0]);
    if (t !== null) out.push(t);
  }
  return out;
}

function compare(a: ETag | null, b: ETag | null, strong: boolean): boolean {
  return a !== null && b !== null && a.opaque === b.opaque && (!strong || (!a.weak && !b.weak));
}

/** Strong comparison (§2.3.2): both strong and the same opaque tag. */
export function strongMatch(a: string, b: string): boolean {
  return compare(parseETag(a), parseETag(b), true);
}

/** Weak comparison (§2.3.2): the same opaque tag, either may be weak. */
export function weakMatch(a: string, b: string): boolean {
  return compare(parseETag(a), parseETag(b), false);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function utc(year: number, month: string, day: number, hms: string): Date | null {
  const mon = MONTHS.indexOf(month.toLowerCase());
  const t = /^(\d\d):(\d\d):(\d\d)$/.exec(hms);
  if (mon < 0 || t === null) return null;
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return null;
  const d = new Date(Date.UTC(year, mon, day, h, mi, Math.min(s, 59)));
  return d.getUTCDate() === day ? d : null;
}

/**
 * Parses an HTTP-date in any of the three formats of RFC 7231 §7.1.1.1 (IMF-fixdate, RFC 850,
 * asctime), always as UTC; null when it is none of them.
 */
export function parseHttpDate(value: string): Date | null {
  const v = value.trim();
  let m = /^[A-Za-z]{3}, (\d\d) ([A-Za-z]{3}) (\d{4}) (\d\d:\d\d:\d\d) GMT$/.exec(v);
  if (m !== null) return utc(Number(m[3]), m[2] ?? '', Number(m[1]), m[4] ?? '');
  m = /^[A-Za-z]{6,9}, (\d\d)-([A-Za-z]{3})-(\d\d) (\d\d:\d\d:\d\d) GMT$/.exec(v);
  if (m !== null) {
    // Two-digit years more than 50 years ahead belong to the previous century.
    const nowYear = new Date().getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return utc(year, m[2] ?? '', Number(m[1]), m[4] ?? '');
  }
  m = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d\d:\d\d:\d\d) (\d{4})$/.exec(v);
  if (m !== null) return utc(Number(m[4]), m[1] ?? '', Number((m[2] ?? '').trim()), m[3] ?? '');
  return null;
}

/** IMF-fixdate of a time (RFC 7231 §7.1.1.1), as Last-Modified and getlastmodified use. */
export function formatHttpDate(d: Date): string {
  return d.toUTCString();
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * Evaluates the preconditions in RFC 7232 §6 order:
 * 1. If-Match (strong): no current representation matches -> 412.
 * 2. else If-Unmodified-Since: modified after the date -> 412 (ignored if not a valid date).
 * 3. If-None-Match (weak): a match -> 304 for GET/HEAD, 412 otherwise.
 * 4. else If-Modified-Since, GET/HEAD only: not modified since -> 304.
 * If-Range is RFC 7233's business (range.ts).
 */
export function evaluateConditional(method: string, h: ConditionalHeaders, state: ConditionalState): ConditionalOutcome {
  const safe = method === 'GET' || method === 'HEAD';
  const current = state.etag === null ? null : parseETag(state.etag);
  if (h.ifMatch !== undefined) {
    const list = parseETagList(h.ifMatch);
    const ok = state.exists && (list === '*' || list.some((t) => compare(t, current, true)));
    if (!ok) return 412;
  } else if (h.ifUnmodifiedSince !== undefined && state.exists) {
    const date = parseHttpDate(h.ifUnmodifiedSince);
    if (date !== null && state.lastModified !== null && seconds(state.lastModified) > seconds(date)) return 412;
  }
  if (h.ifNoneMatch !== undefined) {
    const list = parseETagList(h.ifNoneMatch);
    const matched = state.exists && (list === '*' || list.some((t) => compare(t, current, false)));
    if (matched) return safe ? 304 : 412;
  } else if (h.ifModifiedSince !== undefined && safe && state.exists) {
    const date = parseHttpDate(h.ifModifiedSince);
    if (date !== null && state.lastModified !== null && seconds(state.lastModified) <= seconds(date)) return 304;
  }
  return 'proceed';
}
