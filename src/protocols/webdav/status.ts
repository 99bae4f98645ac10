/**
 * WebDAV's one error vocabulary (STYLE.md §4): the typed HttpError with its code table, the single
 * errno -> HTTP status mapping (RFC 4918 §9 status codes per method), and the `<D:error>` body
 * with the pre/postcondition elements of RFC 4918 §16. Handlers keep no status tables of their
 * own; they throw FsError (from vfs) or HttpError and the server renders them here.
 */
import { STATUS_CODES } from 'node:http';
import { Errno, FsError } from '../../util/errno.js';
import { escapeText } from './xml/escape.js';

/** Pre/postcondition elements of RFC 4918 §16 that Ferry reports in `<D:error>`. */
export type DavConditionName =
  | 'lock-token-matches-request-uri'
  | 'lock-token-submitted'
  | 'no-conflicting-lock'
  | 'no-external-entities'
  | 'preserved-live-properties'
  | 'propfind-finite-depth'
  | 'cannot-modify-protected-property';

/** A condition element, with the hrefs some of them carry (e.g. the locked resource's root). */
export interface DavCondition {
  /** Element local name in the DAV: namespace. */
  readonly name: DavConditionName;
  /** Percent-encoded hrefs listed inside the element (lock-token-submitted, no-conflicting-lock). */
  readonly hrefs?: readonly string[];
}

/** Every wire-level failure Ferry's WebDAV layer raises, with its status and default message. */
export const HTTP_ERRORS = {
  XML_MALFORMED: { status: 400, message: 'request body is not well-formed XML' },
  XML_DOCTYPE_FORBIDDEN: { status: 400, message: 'DOCTYPE and ENTITY declarations are not accepted' },
  XML_TOO_DEEP: { status: 400, message: 'request body nests elements too deeply' },
  XML_ENCODING_UNSUPPORTED: { status: 400, message: 'request body uses an unsupported character encoding' },
  XML_INVALID_REQUEST: { status: 400, message: 'request body is not a valid WebDAV request' },
  BODY_TOO_LARGE: { status: 413, message: 'request body exceeds the configured limit' },
  BAD_PATH: { status: 400, message: 'request path is not acceptable' },
  BAD_DEPTH: { status: 400, message: 'invalid Depth header' },
  BAD_OVERWRITE: { status: 400, message: 'invalid Overwrite header' },
  BAD_DESTINATION: { status: 400, message: 'missing or invalid Destination header' },
  DESTINATION_OTHER_SERVER: { status: 403, message: 'Destination is on another server' },
  BAD_LOCK_TOKEN: { status: 400, message: 'missing or invalid Lock-Token header' },
  BAD_IF_HEADER: { status: 400, message: 'malformed If header' },
  PRECONDITION_FAILED: { status: 412, message: 'precondition failed' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'requested range not satisfiable' },
  BAD_CONTENT_RANGE: { status: 400, message: 'invalid Content-Range header, or a body that does not match it' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  READ_ONLY: { status: 403, message: 'this account has read-only access' },
  PROPFIND_INFINITY_FORBIDDEN: { status: 403, message: 'PROPFIND with Depth: infinity is not supported' },
  LOCKED: { status: 423, message: 'resource is locked' },
  LOCK_TOKEN_MISMATCH: { status: 409, message: 'the lock token does not cover the request URI' },
  LOCK_NOT_OWNER: { status: 403, message: 'the lock belongs to another user' },
  FORBIDDEN: { status: 403, message: 'operation not allowed on this resource' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed on this resource' },
  NOT_IMPLEMENTED: { status: 501, message: 'method not implemented' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'request body not understood by this method' },
  CONFLICT: { status: 409, message: 'the parent collection is missing or not a collection' },
  DEAD_PROPS_TOO_LARGE: { status: 507, message: 'dead properties exceed the space available for them' },
  TOO_MANY_LOCKS: { status: 507, message: 'the lock table is full' },
  LOCK_OWNER_TOO_LARGE: { status: 400, message: 'the lock owner is too long' },
  INTERNAL: { status: 500, message: 'internal server error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Options of an HttpError beyond status and code. */
export interface HttpErrorOptions {
  /** Condition element rendered in the `<D:error>` body. */
  readonly condition?: DavCondition;
  /** Extra response headers (WWW-Authenticate, Content-Range, Retry-After...). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** A failure that becomes an HTTP status; `code` is stable (HTTP_ERRORS key or an errno name). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  /** Empty unless the error needs extra headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly condition: DavCondition | undefined;

  constructor(readonly status: number, readonly code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options.headers ?? {};
    this.condition = options.condition;
  }
}

/** Builds the HttpError of a table code; `detail` is appended to the table's message. */
export function httpError(code: HttpErrorCode, detail?: string, options?: HttpErrorOptions): HttpError {
  const e = HTTP_ERRORS[code];
  return new HttpError(e.status, code, detail === undefined ? e.message : `${e.message}: ${detail}`, options);
}

/** Where an errno arose, which decides between statuses RFC 4918 assigns per method. */
export type ErrnoContext =
  /** The request's own resource (GET, DELETE, PROPFIND, PROPPATCH...). */
  | 'target'
  /** Creating under the request URI's parent (PUT, MKCOL, COPY/MOVE destination parent). */
  | 'parent'
  /** MKCOL on the request URI. */
  | 'mkcol'
  /** PUT writing the request URI. */
  | 'put'
  /** COPY/MOVE destination with Overwrite: F. */
  | 'destination';

/**
 * The one errno -> status table. Choices where RFC 4918 leaves room:
 * - EEXIST: 405 for MKCOL on an existing resource (§9.3.1), 412 for a COPY/MOVE destination that
 *   exists under Overwrite: F (§9.8.5, §9.9.4), 409 elsewhere.
 * - ENOENT/ENOTDIR while creating under a parent: 409, "intermediate collection missing"
 *   (§9.7.1 PUT, §9.3.1 MKCOL, §9.8.5 COPY); on the target itself ENOENT is 404.
 * - EISDIR: 405 for PUT onto a collection (§9.7.2), 409 elsewhere.
 * - ENAMETOOLONG: 414, since every name Ferry sees comes from a URI.
 * - ENOSPC/EDQUOT: 507 (§11.5). EROFS, EACCES, EPERM: 403.
 */
export function statusForErrno(errno: Errno, ctx: ErrnoContext = 'target'): number {
  switch (errno) {
    case Errno.ENOENT:
    case Errno.ENOTDIR:
      if (ctx === 'parent' || ctx === 'mkcol' || ctx === 'put') return 409;
      return errno === Errno.ENOENT ? 404 : 409;
    case Errno.EEXIST:
      return ctx === 'mkcol' ? 405 : ctx === 'destination' ? 412 : 409;
    case Errno.EISDIR:
      return ctx === 'put' ? 405 : 409;
    case Errno.EACCES:
    case Errno.EPERM:
    case Errno.EROFS:
      return 403;
    case Errno.ENOTEMPTY:
    case Errno.EMLINK:
    case Errno.EBUSY:
      return 409;
    case Errno.ENOSPC:
    case Errno.EDQUOT:
      return 507;
    case Errno.EFBIG:
      return 413;
    case Errno.ENAMETOOLONG:
      return 414;
    case Errno.EINVAL:
    case Errno.ERANGE:
      return 400;
    case Errno.ESTALE:
    case Errno.ENODATA:
    case Errno.ENXIO:
    case Errno.ENODEV:
      return 404;
    case Errno.EXDEV:
      return 502;
    case Errno.ELOOP:
      return 508;
    case Errno.EAGAIN:
    case Errno.ETIMEDOUT:
      return 503;
    case Errno.ENOSYS:
    case Errno.ENOTSUP:
      return 501;
    case Errno.EIO:
    case Errno.EBADF:
      return 500;
  }
  return 500;
}

/**
 * Turns anything a handler threw into an HttpError; unknown errors become 500 with the cause kept.
 * A server-side failure (5xx) is described to the client by its errno and reason phrase only: its
 * text (backend replies, object keys, local paths) goes to the log with the cause.
 */
export function toHttpError(err: unknown, ctx: ErrnoContext = 'target'): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof FsError) {
    const status = statusForErrno(err.errno, ctx);
    return new HttpError(status, err.code, status >= 500 ? `${err.code}: ${reasonPhrase(status)}` : err.message, {
      cause: err,
      ...(status === 503 ? { headers: { 'Retry-After': '1' } } : {}),
    });
  }
  return httpError('INTERNAL', undefined, { cause: err });
}

/** Reason phrase of a status code ('Multi-Status', 'Locked'...). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** The `HTTP/1.1 207 Multi-Status` line used inside `<D:status>` (RFC 4918 §14.28). */
export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${reasonPhrase(status)}`;
}

/** The condition element with prefix D (the caller declares xmlns:D="DAV:"). */
export function conditionXml(c: DavCondition): string {
  const hrefs = c.hrefs ?? [];
  if (hrefs.length === 0) return `<D:${c.name}/>`;
  return `<D:${c.name}>${hrefs.map((h) => `<D:href>${escapeText(h)}</D:href>`).join('')}</D:${c.name}>`;
}

/** A complete `<D:error>` response body (RFC 4918 §14.5, §16). */
export function renderErrorBody(c: DavCondition): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:">${conditionXml(c)}</D:error>\n`;
}
