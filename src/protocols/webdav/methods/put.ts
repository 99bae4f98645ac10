/**
 * PUT (RFC 7231 §4.3.4, RFC 4918 §9.7): the body is read through the request's async iterator into
 * vfs writes (no Content-Length needed), 201 when the file was created, 204 when replaced, 409
 * without a parent collection, 405 onto a collection, RFC 7232 preconditions and lock tokens
 * honoured. The response is sent only after vfs.fsync: a 2xx means the file and its bytes are
 * durable. With Content-Range (a partial PUT, RFC 9110 §14.5, as Apache mod_dav and sabre/dav
 * accept) the body, whose Content-Length must match the range, overwrites those bytes of the file
 * in place; the rest of the file is kept.
 *
 * A PUT that fails part-way (the client goes away, the disk fills up) changes nothing a client can
 * see: a file it created is removed again, and a file it replaces keeps its old content, because
 * the new content goes into a hidden file beside it that a rename puts in its place once durable
 * (see replaceViaTemp for the files that are still overwritten in place).
 */
import { Errno, FsError, isFsError } from '../../../util/errno.js';
import type { Vfs } from '../../../vfs/vfs.js';
import { type Attr, type Entry, FileType, type Ino, MODE_WRITE, ROOT_CREDENTIALS, S_ISGID, S_ISUID, S_ISVTX } from '../../../vfs/types.js';
import { evaluateConditional } from '../conditional.js';
import { checkIfHeader, checkLocks, type DavMethod, header, type DavRequest, etagOfEntry, isDir, resolvePath } from '../context.js';
import { putTempName } from '../put-temp.js';
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
    ? await vfs.create(r.cred, parent.ino, name, r.server.fileMode, 0, false, { ...DEFERRED, parentAttr: parent.attr })
    : await checkedCreate(r, parent.ino, name, submitted);
  const replacing = !made.created && range === null;
  if (replacing) {
    const replaced = await replaceViaTemp(r, parent, name, made);
    if (replaced !== null) return respond(r, 204, replaced);
  }
  let attr: Attr;
  try {
    attr = await writeBody(r, made.ino, range?.first ?? 0, { truncate: replacing, ...(made.created ? { known: made.attr } : {}) });
  } catch (err) {
    if (made.created) await removeOwn(r, parent.ino, name, made.ino);
    throw err;
  }
  respond(r, made.created ? 201 : 204, { ino: made.ino, attr });
}

function respond(r: DavRequest, status: 201 | 204, written: Entry): void {
  r.res.writeHead(status, { ETag: etagOfEntry(written), 'Content-Length': '0' });
  r.res.end();
}

/** Writes the request body into file `ino` from `offset` and fsyncs it; the file's attributes then. */
async function writeBody(r: DavRequest, ino: Ino, offset: number, open: { truncate: boolean; known?: Attr }): Promise<Attr> {
  const { vfs } = r.server;
  const { handle } = await vfs.open(r.cred, ino, MODE_WRITE, { ...open, signal: r.signal });
  try {
    // The request's own iterator, not pipeline(): no AbortController, abort listener and
    // DOMException per PUT. A client that goes away fails the iteration (premature close); a
    // failed write ends it early, which destroys the request, as pipeline() would.
    for await (const chunk of r.req as AsyncIterable<Buffer>) {
      await vfs.write(r.cred, handle, offset, chunk, r.signal);
      offset += chunk.length;
    }
    return await vfs.fsync(r.cred, handle, r.signal);
  } finally {
    await vfs.release(r.cred, handle).catch((err: unknown) => r.log.warn({ err }, 'release after PUT failed'));
  }
}

/** Errors creating the file beside the target that leave overwriting in place as the way to go. */
const NO_TEMP = [Errno.EACCES, Errno.EPERM, Errno.ENOSPC, Errno.EDQUOT, Errno.ENAMETOOLONG];

/**
 * Replaces file `old` (named `name` in `parent`) by a new file holding the body: the new file is
 * created beside it under a hidden name, takes over its permission bits, owner and extended
 * attributes (its dead properties: RFC 4918 §9.7.1 keeps them across a PUT), receives the body,
 * is fsynced, and is then renamed over the old one. Until that rename every reader sees the old
 * content; after it the new. A failure removes the hidden file.
 *
 * Null, and the caller overwrites in place as a plain open-with-truncate would (or fails as that
 * does, for what is not a regular file), for a file this cannot stand in for: one with several
 * names (each must see the new content), flags, an ACL or set-id/sticky bits, one in a sticky
 * directory the user could not rename over, or when no file can be created beside it (a directory
 * the user may not write, no inodes or quota left).
 */
async function replaceViaTemp(r: DavRequest, parent: Entry, name: Buffer, old: Entry): Promise<Entry | null> {
  const { vfs } = r.server;
  const a = old.attr;
  if (a.type !== FileType.File || a.nlink !== 1 || a.flags !== 0 || a.accessAclId !== 0 || (a.mode & (S_ISUID | S_ISGID | S_ISVTX)) !== 0) return null;
  const uid = r.cred.uid;
  if ((parent.attr.mode & S_ISVTX) !== 0 && uid !== 0 && uid !== a.uid && uid !== parent.attr.uid) return null;
  await vfs.access(r.cred, old.ino, MODE_WRITE, a);
  const tmpName = putTempName();
  let tmp;
  try {
    tmp = await vfs.create(r.cred, parent.ino, tmpName, a.mode, 0, true, DEFERRED);
  } catch (err) {
    if (NO_TEMP.some((e) => isFsError(err, e))) return null;
    throw err;
  }
  try {
    await takeOver(vfs, old, tmp);
    await writeBody(r, tmp.ino, 0, { truncate: false, known: tmp.attr });
    return await vfs.rename(r.cred, parent.ino, tmpName, parent.ino, name);
  } catch (err) {
    await removeOwn(r, parent.ino, tmpName, tmp.ino);
    throw err;
  }
}

/** Gives `to` the owner and extended attributes of `from` (as root: the PUT may write `from`, not read it). */
async function takeOver(vfs: Vfs, from: Entry, to: Entry): Promise<void> {
  if (from.attr.uid !== to.attr.uid || from.attr.gid !== to.attr.gid) {
    await vfs.setattr(ROOT_CREDENTIALS, to.ino, { uid: from.attr.uid, gid: from.attr.gid });
  }
  for (const xattr of await vfs.listxattr(ROOT_CREDENTIALS, from.ino)) {
    let value: Buffer;
    try {
      value = await vfs.getxattr(ROOT_CREDENTIALS, from.ino, xattr);
    } catch (err) {
      if (isFsError(err, Errno.ENODATA)) continue; // removed since the listing
      throw err;
    }
    await vfs.setxattr(ROOT_CREDENTIALS, to.ino, xattr, value);
  }
}

/**
 * Removes `parent/name` after a failed PUT if it is still the file `ino` this PUT created (not one
 * another request has put there since). Best effort: a failure is logged.
 */
async function removeOwn(r: DavRequest, parent: Ino, name: Buffer, ino: Ino): Promise<void> {
  const { vfs } = r.server;
  try {
    if ((await vfs.lookup(r.cred, parent, name)).ino === ino) await vfs.unlink(r.cred, parent, name);
  } catch (err) {
    if (!isFsError(err, Errno.ENOENT)) r.log.warn({ err, name: name.toString() }, 'removing the file of a failed PUT failed');
  }
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
