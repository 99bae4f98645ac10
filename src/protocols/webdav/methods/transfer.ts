/**
 * The shared part of COPY and MOVE (RFC 4918 §9.8, §9.9): Destination on this server only
 * (403 otherwise), Overwrite (F and an existing destination: 412), Depth, 201 vs 204, 409
 * without a destination parent, 403 onto itself or into its own subtree. MOVE is one vfs rename
 * (after removing a destination that rename cannot replace); COPY clones file slices.
 */
import { Errno, FsError, isFsError } from '../../../util/errno.js';
import type { Entry } from '../../../vfs/types.js';
import { checkIfHeader, checkLocks, type DavRequest, header, isDir, resolvePath } from '../context.js';
import { parseDepth, parseDestination, parseOverwrite } from '../headers.js';
import { isSameOrAncestor } from '../href.js';
import { httpError, toHttpError } from '../status.js';
import { copyTree, removeAny, sendTreeFailures, type TreeFailure } from './tree.js';

export async function transfer(r: DavRequest, move: boolean): Promise<void> {
  const { vfs } = r.server;
  const dest = parseDestination(header(r, 'destination'), { host: header(r, 'host') });
  const destFs = [...r.rootSegments, ...dest.segments];
  const overwrite = parseOverwrite(header(r, 'overwrite'));
  const depth = parseDepth(header(r, 'depth'), 'infinity', move ? ['infinity'] : [0, 'infinity']);
  const srcName = r.fsPath[r.fsPath.length - 1];
  const destName = destFs[destFs.length - 1];
  if (srcName === undefined) throw httpError('FORBIDDEN', `cannot ${move ? 'move' : 'copy'} the root collection`);
  if (destName === undefined) throw httpError('FORBIDDEN', 'the destination is the root collection');
  const submitted = await checkIfHeader(r);
  const srcParent = await resolvePath(vfs, r.cred, r.fsPath.slice(0, -1));
  const src = await vfs.lookup(r.cred, srcParent.ino, srcName);
  if (isSameOrAncestor(r.fsPath, destFs)) throw httpError('FORBIDDEN', 'the destination is the source or inside it');
  if (move) await checkLocks(r, submitted, { path: r.fsPath, subtree: true, parentMembership: true });
  await checkLocks(r, submitted, { path: destFs, subtree: true, parentMembership: true });
  let destParent: Entry;
  try {
    destParent = await resolvePath(vfs, r.cred, destFs.slice(0, -1));
    if (!isDir(destParent.attr)) throw new FsError(Errno.ENOTDIR, 'destination parent is not a collection');
  } catch (err) {
    throw toHttpError(err, 'parent');
  }
  let existing: Entry | null = null;
  try {
    existing = await vfs.lookup(r.cred, destParent.ino, destName);
  } catch (err) {
    if (!isFsError(err, Errno.ENOENT)) throw err;
  }
  if (existing !== null && !overwrite) throw httpError('PRECONDITION_FAILED', 'destination exists and Overwrite is F');
  let failures: TreeFailure[] = [];
  if (existing !== null && !(move && !isDir(existing.attr) && !isDir(src.attr))) {
    failures = await removeAny(vfs, r.cred, destParent.ino, destName, existing.ino, existing.attr.type, destFs);
  }
  if (failures.length === 0) {
    if (move) {
      await vfs.rename(r.cred, srcParent.ino, srcName, destParent.ino, destName);
      await r.server.locks.dropTree(r.fsPath);
    } else {
      try {
        failures = await copyTree(vfs, r.cred, { ino: src.ino, type: src.attr.type, mode: src.attr.mode, length: src.attr.length },
          destParent.ino, destName, destFs, depth === 'infinity');
      } catch (err) {
        throw toHttpError(err, 'parent');
      }
    }
  }
  if (failures.length === 0) {
    r.res.writeHead(existing === null ? 201 : 204, existing === null ? { 'Content-Length': '0' } : {});
    r.res.end();
    return;
  }
  await sendTreeFailures(r, failures);
}
