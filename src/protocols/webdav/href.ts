/**
 * Request paths and hrefs (RFC 3986 §2.1 percent-encoding, §3.3 path; RFC 4918 §8.3 hrefs).
 * Names are raw bytes: a volume may hold names that are not UTF-8 (GBK...), so paths decode to
 * Buffer segments and hrefs encode byte by byte, losslessly. Decoding refuses `.`/`..` segments,
 * NUL and an encoded `/` inside a segment rather than normalising them.
 */
import { httpError } from './status.js';

/** A decoded request path: one Buffer per segment, root = no segments. */
export interface DavPath {
  /** Path segments as raw name bytes, never empty, never '.' or '..'. */
  readonly segments: readonly Buffer[];
  /** Whether the request path ended in '/' (a collection was named). */
  readonly trailingSlash: boolean;
}

// RFC 3986 unreserved (ALPHA DIGIT - . _ ~) and sub-delims (! $ & ' ( ) * + , ; =) stay literal.
const LITERAL = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&\'()*+,;=') {
  LITERAL[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

/** Percent-encodes one name: every byte outside unreserved/sub-delims becomes %XX. */
export function encodeSegment(name: Uint8Array): string {
  let out = '';
  for (const b of name) {
    if (LITERAL[b] === 1) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/**
 * The href of a path: `/` + encoded segments, with a trailing `/` for collections.
 * `base` is an already-encoded mount prefix such as '/dav' (no trailing slash), '' for none.
 */
export function encodeHref(segments: readonly Uint8Array[], isCollection: boolean, base = ''): string {
  if (segments.length === 0) return `${base}/`;
  const p = `${base}/${segments.map(encodeSegment).join('/')}`;
  return isCollection ? `${p}/` : p;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Decodes one raw segment to bytes; chars above U+00FF cannot come off the wire and are refused. */
function decodeSegment(raw: string): Buffer {
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw httpError('BAD_PATH', 'invalid percent-encoding');
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c > 0xff) {
      throw httpError('BAD_PATH', 'non-octet character in path');
    } else {
      out[n++] = c;
    }
  }
  const seg = out.subarray(0, n);
  if (seg.includes(0)) throw httpError('BAD_PATH', 'NUL in path');
  if (seg.includes(0x2f)) throw httpError('BAD_PATH', 'encoded "/" inside a segment');
  if ((n === 1 && seg[0] === 0x2e) || (n === 2 && seg[0] === 0x2e && seg[1] === 0x2e)) {
    throw httpError('BAD_PATH', 'dot segment');
  }
  return Buffer.from(seg);
}

/**
 * Decodes the path of a request-target or Destination: origin-form ('/a/b?q') or absolute-form
 * ('http://host/a/b'). Strings are taken as Node delivers them, one char per octet (Node rejects
 * raw non-ASCII in the request line and reads header values as latin1). Empty segments ('//')
 * collapse; '.', '..' (also as %2e%2e), NUL and %2F inside a segment are 400 BAD_PATH.
 */
export function decodeRequestPath(target: string): DavPath {
  let path = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (scheme !== null) path = path.slice(scheme[0].length) || '/';
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  if (!path.startsWith('/')) throw httpError('BAD_PATH', 'path must be absolute');
  const segments: Buffer[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    segments.push(decodeSegment(raw));
  }
  return { segments, trailingSlash: path.length > 1 && path.endsWith('/') };
}

/** The path below `base` (e.g. the mount prefix), or null when `path` is not inside it. */
export function relativeTo(path: DavPath, base: readonly Uint8Array[]): DavPath | null {
  if (path.segments.length < base.length) return null;
  for (let i = 0; i < base.length; i++) {
    const b = base[i];
    const s = path.segments[i];
    if (b === undefined || s === undefined || Buffer.compare(b, s) !== 0) return null;
  }
  return { segments: path.segments.slice(base.length), trailingSlash: path.trailingSlash };
}

/** True when `ancestor` is `path` itself or one of its ancestors (lock scopes, COPY into self). */
export function isSameOrAncestor(ancestor: readonly Uint8Array[], path: readonly Uint8Array[]): boolean {
  if (ancestor.length > path.length) return false;
  for (let i = 0; i < ancestor.length; i++) {
    const a = ancestor[i];
    const p = path[i];
    if (a === undefined || p === undefined || Buffer.compare(a, p) !== 0) return false;
  }
  return true;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
// eslint-disable-next-line no-control-regex
const UNSAFE_DISPLAY = /[\u0000-\u001f\u007f\ufffe\uffff]/;

/**
 * A name as text for humans (listing, displayname). Valid UTF-8 without control characters is
 * shown as is; anything else is shown percent-escaped ('%' itself included), so the bytes can
 * be recovered exactly from the text.
 */
export function displayName(name: Uint8Array): string {
  try {
    const s = UTF8.decode(name);
    if (!UNSAFE_DISPLAY.test(s)) return s;
  } catch {
    // not UTF-8: fall through to the escaped form
  }
  let out = '';
  for (const b of name) {
    out += b >= 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}
