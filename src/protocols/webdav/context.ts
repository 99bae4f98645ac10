/**
 * What a WebDAV method handler receives (the common interface of methods/*.ts) and the helpers
 * they share: path -> inode resolution over the Vfs, hrefs in the client's namespace, the If
 * header check and the lock-token check. Handlers throw FsError or HttpError; the server maps.
 * Nothing here writes a response.
 */
import type { BufferPool } from '../../util/buffer-pool.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../observability/logger.js';
import { Errno, isFsError } from '../../util/errno.js';
import type { Vfs } from '../../vfs/vfs.js';
import { type Attr, type Credentials, type Entry, FileType, type Ino, ROOT_INODE } from '../../vfs/types.js';
import type { DavUser } from './auth.js';
import { type DavPath, encodeHref } from './href.js';
import { evaluateIf, parseIfHeader } from './if-header.js';
import type { LockManager, LockRecord, ModifyScope } from './locks.js';
import { type ActiveLock, type DavAttr, etagOf } from './props.js';
import { DEAD_PROPS_XATTR, decodeDeadProps } from './dead-props.js';
import { httpError } from './status.js';
import type { DeadProp } from './xml/types.js';

/** How a method wants its request body. */
export type BodyMode =
  /** No body expected; an unread body is drained or the connection closed. */
  | 'none'
  /** Read fully into `DavRequest.body`, up to the server's XML body limit (413 past it). */
  | 'buffered'
  /** The handler reads `req` itself (PUT). */
  | 'stream';

/** Server-wide state handlers use. */
export interface DavServerState {
  readonly vfs: Vfs;
  readonly locks: LockManager;
  /** PROPFIND Depth: infinity allowed (else 403 propfind-finite-depth). */
  readonly allowPropfindInfinity: boolean;
  /** Default and maximum lock timeouts, seconds. */
  readonly lockTimeout: { readonly defaultSec: number; readonly maxSec: number };
  /** Mode bits of new files and collections (before umask 0). */
  readonly fileMode: number;
  readonly dirMode: number;
  /** Buffers GET bodies are read into (one vfs read each) and sent from, reused once written. */
  readonly readBuffers: BufferPool;
}

/** One request as a handler sees it. */
export interface DavRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** Request path in the client's namespace (below the user's root). */
  readonly path: DavPath;
  /** Volume path: the user's root segments + path.segments. */
  readonly fsPath: readonly Buffer[];
  /** Segments of the user's root inside the volume. */
  readonly rootSegments: readonly Buffer[];
  readonly user: DavUser | null;
  readonly cred: Credentials;
  /** The buffered body ('buffered' mode), else empty. */
  readonly body: Buffer;
  readonly log: Logger;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly server: DavServerState;
}

/** A method: name, body mode, whether it modifies (read-only users get 403), and the handler. */
export interface DavMethod {
  readonly name: string;
  readonly body: BodyMode;
  readonly modifies: boolean;
  /** Writes the whole response or throws. */
  handle(r: DavRequest): Promise<void>;
}

/** Walks `segments` from the root; FsError ENOENT/ENOTDIR when a step is missing. */
export async function resolvePath(vfs: Vfs, cred: Credentials, segments: readonly Buffer[]): Promise<Entry> {
  let ino: Ino = ROOT_INODE;
  let attr: Attr | undefined;
  for (const s of segments) {
    const e = await vfs.lookup(cred, ino, s);
    ino = e.ino;
    attr = e.attr;
  }
  return { ino, attr: attr ?? await vfs.getattr(cred, ino) };
}

/** resolvePath, or null when the path does not exist. */
export async function tryResolve(vfs: Vfs, cred: Credentials, segments: readonly Buffer[]): Promise<Entry | null> {
  try {
    return await resolvePath(vfs, cred, segments);
  } catch (err) {
    if (isFsError(err, Errno.ENOENT) || isFsError(err, Errno.ENOTDIR)) return null;
    throw err;
  }
}

/** The property view of an attribute record. */
export function davAttr(ino: Ino, attr: Attr, name: Uint8Array): DavAttr {
  return {
    isCollection: attr.type === FileType.Directory, ino, length: attr.length,
    mtimeSec: attr.mtime, mtimeNs: attr.mtimeNs, ctimeSec: attr.ctime, ctimeNs: attr.ctimeNs, name,
  };
}

/** Strong ETag of an entry. */
export function etagOfEntry(e: Entry): string {
  return etagOf(davAttr(e.ino, e.attr, Buffer.alloc(0)));
}

export const isDir = (attr: Attr): boolean => attr.type === FileType.Directory;

/** href (client namespace) of a volume path; paths outside the user's root keep their volume form. */
export function hrefOfFs(r: DavRequest, fsSegments: readonly Buffer[], isCollection: boolean): string {
  const root = r.rootSegments;
  const inside = root.length <= fsSegments.length && root.every((s, i) => { const t = fsSegments[i]; return t !== undefined && s.equals(t); });
  return encodeHref(inside ? fsSegments.slice(root.length) : fsSegments, isCollection);
}

/** The ActiveLock view of a stored lock. */
export function activeLock(r: DavRequest, l: LockRecord): ActiveLock {
  return {
    token: l.token, scope: l.scope, depth: l.depth, ownerXml: l.ownerXml,
    timeoutSec: r.server.locks.remainingSec(l), rootHref: hrefOfFs(r, l.root, false),
  };
}

/**
 * Evaluates the If header (RFC 4918 §10.4): 400 when malformed, 412 when no list holds.
 * Returns the state tokens submitted (for the lock check).
 */
export async function checkIfHeader(r: DavRequest): Promise<readonly string[]> {
  const raw = header(r, 'if');
  if (raw === undefined) return [];
  const parsed = parseIfHeader(raw);
  const ev = await evaluateIf(parsed, r.path, async (p: DavPath) => {
    const fs = [...r.rootSegments, ...p.segments];
    const e = await tryResolve(r.server.vfs, r.cred, fs);
    const locks = await r.server.locks.covering(fs);
    return { etag: e === null ? null : etagOfEntry(e), lockTokens: locks.map((l) => l.token) };
  });
  if (!ev.ok) throw httpError('PRECONDITION_FAILED', 'no If header list holds');
  return ev.submittedTokens;
}

/** 423 unless the submitted tokens satisfy every lock on `scope`. */
export async function checkLocks(r: DavRequest, submitted: readonly string[], scope: ModifyScope): Promise<void> {
  await r.server.locks.assertCanModify(scope, submitted, (root) => hrefOfFs(r, root, false));
}

/** Dead properties of an inode (none when the xattr is absent). */
export async function readDeadProps(r: DavRequest, ino: Ino): Promise<DeadProp[]> {
  try {
    return decodeStored(r, ino, await r.server.vfs.getxattr(r.cred, ino, DEAD_PROPS_NAME));
  } catch (err) {
    if (isFsError(err, Errno.ENODATA) || isFsError(err, Errno.ENOTSUP)) return [];
    throw err;
  }
}

/** Dead properties of many inodes, in order, from one metadata round-trip (a PROPFIND batch). */
export async function readDeadPropsOf(r: DavRequest, inos: readonly Ino[]): Promise<DeadProp[][]> {
  let values: (Buffer | null)[];
  try {
    values = await r.server.vfs.getxattrs(r.cred, inos, DEAD_PROPS_NAME);
  } catch (err) {
    if (isFsError(err, Errno.ENOTSUP)) return inos.map(() => []);
    throw err;
  }
  return values.map((v, k) => {
    const ino = inos[k];
    return v === null || ino === undefined ? [] : decodeStored(r, ino, v);
  });
}

const DEAD_PROPS_NAME = Buffer.from(DEAD_PROPS_XATTR);

function decodeStored(r: DavRequest, ino: Ino, value: Buffer): DeadProp[] {
  const decoded = decodeDeadProps(value);
  if (decoded.invalid > 0) r.log.warn({ ino: String(ino), invalid: decoded.invalid }, 'dropped invalid stored dead properties');
  return decoded.props;
}

/** Decodes a Destination-like path already checked for the authority. */
export function destinationFs(r: DavRequest, dest: DavPath): Buffer[] {
  return [...r.rootSegments, ...dest.segments];
}

/** A request header as one string (repeated headers joined with ', ' as RFC 7230 §3.2.2 allows). */
export function header(r: DavRequest, name: string): string | undefined {
  const v = r.req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
