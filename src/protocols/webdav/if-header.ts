/**
 * The WebDAV If header (RFC 4918 §10.4): a strict parser (tagged or untagged lists, Not, state
 * tokens as Coded-URLs, entity tags in brackets) and an evaluator over a caller-supplied view of
 * resource state. Malformed input is 400 BAD_IF_HEADER, never an exception of another kind.
 * Lock semantics (which token is required where) belong to the LOCK code, not here.
 */
import { type DavPath, decodeRequestPath } from './href.js';
import { HttpError, httpError } from './status.js';

/** One condition of a list; `not` inverts it (RFC 4918 §10.4.3). */
export type IfCondition =
  | { readonly not: boolean; readonly kind: 'token'; readonly token: string }
  | { readonly not: boolean; readonly kind: 'etag'; readonly etag: string };

/** A parenthesised list: true when all its conditions hold for its resource. */
export interface IfList {
  /** The tagged resource, or null for an untagged list (the request URI). */
  readonly resource: DavPath | null;
  /** At least one condition. */
  readonly conditions: readonly IfCondition[];
}

/** A parsed If header: true when any list holds. */
export interface IfHeader {
  /** Tagged-list form (resource tags) rather than No-tag-list; never mixed. */
  readonly tagged: boolean;
  /** At least one list. */
  readonly lists: readonly IfList[];
}

/** Longest If header accepted; Node caps all headers at 16 KiB anyway. */
export const MAX_IF_HEADER_LENGTH = 16 * 1024;

const bad = (why: string): HttpError => httpError('BAD_IF_HEADER', why);

/** Parses an If header value; throws 400 BAD_IF_HEADER on any deviation from the grammar. */
export function parseIfHeader(value: string): IfHeader {
  if (value.length > MAX_IF_HEADER_LENGTH) throw bad('too long');
  let i = 0;
  const skip = (): void => {
    while (i < value.length && ' \t\r\n'.includes(value.charAt(i))) i++;
  };
  // "<" ... ">" with no whitespace inside; returns the content.
  const codedUrl = (): string => {
    const end = value.indexOf('>', i);
    if (end < 0) throw bad('unterminated <...>');
    const inner = value.slice(i + 1, end);
    if (inner === '' || /[\s<]/.test(inner)) throw bad('invalid <...>');
    i = end + 1;
    return inner;
  };
  const entityTag = (): string => {
    i++; // '['
    skip();
    let tag = '';
    if (value.startsWith('W/', i)) {
      tag = 'W/';
      i += 2;
    }
    if (value.charAt(i) !== '"') throw bad('entity tag must be quoted');
    // RFC 4918 takes entity-tag from RFC 2616: a quoted-string, so spaces and quoted-pairs occur
    // (its own example is ["I am an ETag"]); control characters other than HTAB do not.
    let end = i + 1;
    while (end < value.length && value.charAt(end) !== '"') end += value.charAt(end) === '\\' ? 2 : 1;
    if (end >= value.length) throw bad('unterminated entity tag');
    const opaque = value.slice(i, end + 1);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(opaque)) throw bad('invalid character in entity tag');
    tag += opaque;
    i = end + 1;
    skip();
    if (value.charAt(i) !== ']') throw bad('expected ]');
    i++;
    return tag;
  };
  const list = (resource: DavPath | null): IfList => {
    i++; // '('
    const conditions: IfCondition[] = [];
    for (;;) {
      skip();
      const c = value.charAt(i);
      if (c === ')') {
        i++;
        break;
      }
      let not = false;
      if (value.slice(i, i + 3).toLowerCase() === 'not') {
        not = true;
        i += 3;
        skip();
      }
      const d = value.charAt(i);
      if (d === '<') {
        const token = codedUrl();
        if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(token)) throw bad('state token must be an absolute URI');
        conditions.push({ not, kind: 'token', token });
      } else if (d === '[') {
        conditions.push({ not, kind: 'etag', etag: entityTag() });
      } else {
        throw bad(d === '' ? 'unterminated list' : `unexpected ${JSON.stringify(d)} in list`);
      }
    }
    if (conditions.length === 0) throw bad('empty list');
    return { resource, conditions };
  };

  const lists: IfList[] = [];
  let tagged: boolean | null = null;
  let resource: DavPath | null = null;
  let listsForTag = 0;
  for (;;) {
    skip();
    if (i >= value.length) break;
    const c = value.charAt(i);
    if (c === '<') {
      if (tagged === false) throw bad('tagged and untagged lists mixed');
      if (tagged === true && listsForTag === 0) throw bad('resource tag without a list');
      tagged = true;
      resource = resourceTag(codedUrl());
      listsForTag = 0;
    } else if (c === '(') {
      tagged ??= false;
      lists.push(list(tagged ? resource : null));
      listsForTag++;
    } else {
      throw bad(`unexpected ${JSON.stringify(c)}`);
    }
  }
  if (tagged === null) throw bad('no list');
  if (listsForTag === 0) throw bad('resource tag without a list');
  return { tagged, lists };
}

/** Resource-Tag = "<" Simple-ref ">": absolute URI or absolute path, decoded like a request path. */
function resourceTag(ref: string): DavPath {
  if (!ref.startsWith('/') && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(ref)) throw bad('resource tag is not a URI');
  try {
    return decodeRequestPath(ref);
  } catch (err) {
    throw httpError('BAD_IF_HEADER', `resource tag: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** What the evaluator needs to know about one resource. */
export interface IfResourceState {
  /** Current strong entity tag, quoted; null when the resource does not exist. */
  readonly etag: string | null;
  /** Tokens of every lock whose scope covers the resource (including depth-infinity ancestors). */
  readonly lockTokens: readonly string[];
}

/** Looks up a resource's state; an unmapped path answers { etag: null, lockTokens: [] }. */
export type IfStateLookup = (path: DavPath) => Promise<IfResourceState>;

/** Outcome of the If header. */
export interface IfEvaluation {
  /** False means 412 Precondition Failed (RFC 4918 §10.4.3). */
  readonly ok: boolean;
  /** Every state token that appears in the header, Not or not: all count as submitted (§10.4.1). */
  readonly submittedTokens: readonly string[];
}

const opaqueTag = (etag: string): string => (etag.startsWith('W/') ? etag.slice(2) : etag);

/**
 * Evaluates a parsed If header (null = no header: ok). Untagged lists apply to `requestPath`,
 * tagged ones to their resource. Entity tags use the weak comparison (RFC 4918 §10.4.4 allows
 * either); each distinct resource is looked up at most once.
 */
export async function evaluateIf(header: IfHeader | null, requestPath: DavPath, lookup: IfStateLookup): Promise<IfEvaluation> {
  if (header === null) return { ok: true, submittedTokens: [] };
  const tokens = new Set<string>();
  for (const l of header.lists) for (const c of l.conditions) if (c.kind === 'token') tokens.add(c.token);
  const states = new Map<string, Promise<IfResourceState>>();
  const stateOf = (p: DavPath): Promise<IfResourceState> => {
    const key = p.segments.map((s) => s.toString('hex')).join('/');
    let st = states.get(key);
    if (st === undefined) {
      st = lookup(p);
      states.set(key, st);
    }
    return st;
  };
  let ok = false;
  for (const l of header.lists) {
    const state = await stateOf(l.resource ?? requestPath);
    const holds = l.conditions.every((c) => {
      const match = c.kind === 'token'
        ? state.lockTokens.includes(c.token)
        : state.etag !== null && opaqueTag(state.etag) === opaqueTag(c.etag);
      return match !== c.not;
    });
    if (holds) {
      ok = true;
      break;
    }
  }
  return { ok, submittedTokens: [...tokens] };
}
