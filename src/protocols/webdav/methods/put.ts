/**
 * PUT (RFC 7231 §4.3.4, RFC 4918 §9.7): the body is read through the request's async iterator into
 * vfs writes (no Content-Length needed), 201 when the file was created, 204 when replaced, 409
 * without a parent collection, 405 onto a collection, RFC 7232 preconditions and lock tokens
 * honoured. The response is sent only after vfs.fsync: a 2xx means the file and its bytes are
 * durable. With Content-Range (a partial PUT, RFC 9110 §14.5, as Apache mod_dav and sabre/dav
 * accept) the body, whose Content-Length must match the range, overwrites those bytes of the file
 * in place; the rest of the file is kept.
 */
import { Errno, FsError, isFsError } from '../../../util/errno.js';
import { type Attr, type Entry, type Ino, MODE_WRITE } from '../../../vfs/types.js';
import { evaluateConditional } from '../conditional.js';
import { checkIfHeader, checkLocks, type DavMethod, header, type DavRequest, etagOfEntry, isDir, resolvePath } from '../context.js';
import { parsePutContentRange } from '../range.js';
import { httpError, toHttpError } from '../status.js';

/**
 * A new file need not be durable before its body is written: nothing is acknowledged before the
 * fsync that ends the PUT, which makes the creation durable with the data (one metadata sync less
 * to wait for per new file).
 */
const DEFERRED = { deferDurability: true } as const;

async function handlePut(r: DavRequest): Promise<void> {
  const { vfs } = r.server;
  const name = r.fsPath[r.fsPath.length - 1];
  if (name === undefined) throw new FsError(Errno.EISDIR, 'PUT on the root collection');
  const rangeHeader = header(r, 'content-range');
  const range = rangeHeader === undefined ? null : parsePutContentRange(rangeHeader);
  if (range !== null && header(r, 'content-length')?.trim() !== String(range.last - range.first + 1)) {
    throw httpError('BAD_CONTENT_RANGE', 'a partial PUT needs a Content-Length equal to the length of its Content-Range');
  }
  const submitted = await checkIfHeader(r);
  const parent = await resolvePath(vfs, r.cred, r.fsPath.slice(0, -1));
  if (!isDir(parent.attr)) throw new FsError(Errno.ENOTDIR, 'parent is not a collection');
  const made = await mayCreateBlindly(r, submitted)
    ? await vfs.create(r.cred, parent.ino, name, r.server.fileMode, 0, false, DEFERRED)
    : await checkedCreate(r, parent.ino, name, submitted);
  const { handle } = await vfs.open(r.cred, made.ino, MODE_WRITE, {
    truncate: !made.created && range === null, signal: r.signal, ...(made.created ? { known: made.attr } : {}),
  });
  let attr: Attr;
  try {
    // The request's own iterator, not pipeline(): no AbortController, abort listener and
    // DOMException per PUT. A client that goes away fails the iteration (premature close); a
    // failed write ends it early, which destroys the request, as pipeline() would.
    let offset = range?.first ?? 0;
    for await (const chunk of r.req as AsyncIterable<Buffer>) {
      await vfs.write(r.cred, handle, offset, chunk, r.signal);
      offset += chunk.length;
    }
    attr = await vfs.fsync(r.cred, handle, r.signal);
  } finally {
    await vfs.release(r.cred, handle).catch((err: unknown) => r.log.warn({ err }, 'release after PUT failed'));
  }
  r.res.writeHead(made.created ? 201 : 204, { ETag: etagOfEntry({ ino: made.ino, attr }), 'Content-Length': '0' });
  r.res.end();
}

/**
 * True when nothing needs the current state of the target before it is created or opened: no
 * RFC 7232 precondition, and the locks allow adding a member to the parent (which covers
 * replacing one). Then one meta call creates the file or opens the existing one (EISDIR for a
 * collection), and a new file costs no lookup that fails first.
 */
async function mayCreateBlindly(r: DavRequest, submitted: readonly string[]): Promise<boolean> {
  if (header(r, 'if-match') !== undefined || header(r, 'if-none-match') !== undefined || header(r, 'if-unmodified-since') !== undefined) {
    return false;
  }
  return r.server.locks.permits({ path: r.fsPath, parentMembership: true }, submitted);
}

/** The target looked up first: RFC 7232 preconditions on it, then the lock check for its case. */
async function checkedCreate(r: DavRequest, parent: Ino, name: Buffer, submitted: readonly string[]): Promise<Entry & { created: boolean }> {
  const { vfs } = r.server;
  let existing = null;
  try {
    existing = await vfs.lookup(r.cred, parent, name);
  } catch (err) {
    if (!isFsError(err, Errno.ENOENT)) throw err;
  }
  if (existing !== null && isDir(existing.attr)) throw new FsError(Errno.EISDIR, 'PUT onto a collection');
  const outcome = evaluateConditional('PUT', {
    ifMatch: header(r, 'if-match'), ifNoneMatch: header(r, 'if-none-match'),
    ifUnmodifiedSince: header(r, 'if-unmodified-since'),
  }, {
    exists: existing !== null,
    etag: existing === null ? null : etagOfEntry(existing),
    lastModified: existing === null ? null : new Date(existing.attr.mtime * 1000),
  });
  if (outcome !== 'proceed') throw httpError('PRECONDITION_FAILED');
  await checkLocks(r, submitted, { path: r.fsPath, parentMembership: existing === null });
  return createOrOpen(r, parent, name, existing === null);
}

/**
 * The file to write: created exclusively when the lookup found nothing (saves meta a second lookup),
 * else (or when a concurrent request created it meanwhile) created-or-opened.
 */
async function createOrOpen(r: DavRequest, parent: Ino, name: Buffer, absent: boolean): Promise<Entry & { created: boolean }> {
  const { vfs } = r.server;
  if (absent) {
    try {
      return await vfs.create(r.cred, parent, name, r.server.fileMode, 0, true, DEFERRED);
    } catch (err) {
      if (!isFsError(err, Errno.EEXIST)) throw err;
    }
  }
  return vfs.create(r.cred, parent, name, r.server.fileMode, 0, false, DEFERRED);
}

export const put: DavMethod = {
  name: 'PUT',
  body: 'stream',
  modifies: true,
  async handle(r) {
    try {
      await handlePut(r);
    } catch (err) {
      throw toHttpError(err, 'put');
    }
  },
};
