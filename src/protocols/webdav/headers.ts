/**
 * Parsers of the small WebDAV request headers (RFC 4918 §10): Depth, Overwrite, Destination,
 * Timeout and Lock-Token. Each returns a typed value or throws a 400-class HttpError; none
 * consults the file system. The If header lives in if-header.ts, Range in range.ts and the
 * RFC 7232 preconditions in conditional.ts.
 */
import { type DavPath, decodeRequestPath } from './href.js';
import { httpError } from './status.js';

/** A Depth value (RFC 4918 §10.2). */
export type Depth = 0 | 1 | 'infinity';

/**
 * Parses Depth. A missing header gives `dflt`; a value outside `allowed` (e.g. 1 for LOCK or
 * COPY, RFC 4918 §9.10.3, §9.8.3) or anything but 0/1/infinity is 400 BAD_DEPTH.
 */
export function parseDepth(value: string | undefined, dflt: Depth, allowed: readonly Depth[] = [0, 1, 'infinity']): Depth {
  if (value === undefined) return dflt;
  const v = value.trim().toLowerCase();
  const depth: Depth | undefined = v === '0' ? 0 : v === '1' ? 1 : v === 'infinity' ? 'infinity' : undefined;
  if (depth === undefined || !allowed.includes(depth)) throw httpError('BAD_DEPTH', JSON.stringify(value));
  return depth;
}

/** Parses Overwrite (RFC 4918 §10.6): T or F, absent means T. */
export function parseOverwrite(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.trim().toUpperCase();
  if (v === 'T') return true;
  if (v === 'F') return false;
  throw httpError('BAD_OVERWRITE', JSON.stringify(value));
}

/** Host and port of a Host header or URI authority, lower-cased, default port filled in. */
function authorityKey(authority: string, scheme: string): string {
  const defaultPort = scheme === 'https' ? '443' : '80';
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority.trim().toLowerCase());
  if (m === null) return authority.toLowerCase();
  const port = m[2] === undefined || m[2] === '' ? defaultPort : String(Number(m[2]));
  return `${m[1] ?? ''}:${port}`;
}

/** Options of parseDestination. */
export interface DestinationOptions {
  /** The request's Host header. */
  readonly host: string | undefined;
  /** Further authorities that name this server (e.g. a reverse proxy's public name). */
  readonly aliases?: readonly string[];
}

/**
 * Parses Destination (RFC 4918 §10.3): an absolute URI or an absolute path. A URI naming another
 * authority than Host (or an alias) is 403 DESTINATION_OTHER_SERVER, a refusal whose message names
 * the reason, as sabre/dav answers a Destination outside its base URI: the server does not copy or
 * move to other servers, a client error (RFC 4918 §9.8.5/§9.9.4 allow 502 too, which reads as a
 * failed upstream behind a proxy). The scheme is not compared, so TLS-terminating proxies work.
 */
export function parseDestination(value: string | undefined, options: DestinationOptions): DavPath {
  if (value === undefined || value.trim() === '') throw httpError('BAD_DESTINATION', 'missing');
  const v = value.trim();
  const abs = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(v);
  if (abs !== null) {
    const scheme = (abs[1] ?? '').toLowerCase();
    const authority = (abs[2] ?? '').replace(/^[^@]*@/, '');
    if (scheme !== 'http' && scheme !== 'https') throw httpError('BAD_DESTINATION', `scheme ${scheme}`);
    const target = authorityKey(authority, scheme);
    const ours = [options.host, ...(options.aliases ?? [])].filter((h): h is string => h !== undefined);
    if (!ours.some((h) => authorityKey(h, scheme) === target)) throw httpError('DESTINATION_OTHER_SERVER', authority);
  } else if (!v.startsWith('/')) {
    throw httpError('BAD_DESTINATION', 'neither an absolute URI nor an absolute path');
  }
  return decodeRequestPath(v);
}

/** Limits applied to a client's Timeout request. */
export interface TimeoutPolicy {
  /** Used when the header is absent or names nothing usable. */
  readonly defaultSec: number;
  /** Upper bound; Infinite becomes this. */
  readonly maxSec: number;
}

/**
 * Parses Timeout (RFC 4918 §10.7): a list of `Second-N` / `Infinite`; the first usable entry
 * wins, capped at maxSec. The server may ignore the header, so junk gives the default, not 400.
 */
export function parseTimeout(value: string | undefined, policy: TimeoutPolicy): number {
  if (value === undefined) return Math.min(policy.defaultSec, policy.maxSec);
  for (const item of value.split(',')) {
    const t = item.trim();
    if (/^infinite$/i.test(t)) return policy.maxSec;
    const m = /^second-(\d{1,15})$/i.exec(t);
    if (m !== null) return Math.min(Number(m[1]), policy.maxSec);
  }
  return Math.min(policy.defaultSec, policy.maxSec);
}

const CODED_URL = /^<([A-Za-z][A-Za-z0-9+.-]*:[^\s<>]*)>$/;

/** Parses Lock-Token (RFC 4918 §10.5): `<urn:uuid:...>` -> 'urn:uuid:...'; anything else is 400. */
export function parseLockToken(value: string | undefined): string {
  if (value === undefined) throw httpError('BAD_LOCK_TOKEN', 'missing');
  const m = CODED_URL.exec(value.trim());
  if (m === null || m[1] === undefined) throw httpError('BAD_LOCK_TOKEN', JSON.stringify(value));
  return m[1];
}
