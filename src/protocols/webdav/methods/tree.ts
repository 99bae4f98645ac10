/**
 * Recursive helpers of DELETE, COPY and MOVE (RFC 4918 §9.6.1, §9.8.3): remove a tree and copy a
 * tree, collecting per-member failures for a 207 instead of stopping at the first. A member that
 * failed keeps its ancestors (they are not reported: §9.6.1 says the failure of the member is
 * enough). Files are copied with vfs.copyRange (slices cloned, no data rewritten).
 */
import { Errno, isFsError } from '../../../util/errno.js';
import type { Vfs } from '../../../vfs/vfs.js';
import { type Credentials, FileType, type Ino } from '../../../vfs/types.js';
import { type DavRequest, hrefOfFs } from '../context.js';
import { toHttpError } from '../status.js';
import { MultistatusWriter } from '../xml/build.js';
import { DEAD_PROPS_XATTR } from '../dead-props.js';

/** One member that could not be processed. */
export interface TreeFailure {
  /** Volume path of the member. */
  readonly path: readonly Buffer[];
  readonly isCollection: boolean;
  readonly status: number;
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** Children of a directory (names and types), read fully before the caller changes the directory. */
async function children(vfs: Vfs, cred: Credentials, dir: Ino): Promise<{ name: Buffer; ino: Ino; type: FileType }[]> {
  const out: { name: Buffer; ino: Ino; type: FileType }[] = [];
  for await (const d of vfs.readdir(cred, dir)) {
    if (d.name.equals(DOT) || d.name.equals(DOTDOT)) continue;
    out.push({ name: d.name, ino: d.ino, type: d.type });
  }
  return out;
}

/** Removes `parent/name` (a directory `ino`) and everything below; returns the failures. */
export async function removeTree(vfs: Vfs, cred: Credentials, parent: Ino, name: Buffer, ino: Ino, path: readonly Buffer[]): Promise<TreeFailure[]> {
  const failures: TreeFailure[] = [];
  for (const c of await children(vfs, cred, ino)) {
    const p = [...path, c.name];
    if (c.type === FileType.Directory) {
      failures.push(...await removeTree(vfs, cred, ino, c.name, c.ino, p));
    } else {
      try {
        await vfs.unlink(cred, ino, c.name);
      } catch (err) {
        if (!isFsError(err, Errno.ENOENT)) failures.push({ path: p, isCollection: false, status: toHttpError(err).status });
      }
    }
  }
  if (failures.length > 0) return failures;
  try {
    await vfs.rmdir(cred, parent, name);
  } catch (err) {
    if (!isFsError(err, Errno.ENOENT)) failures.push({ path, isCollection: true, status: toHttpError(err).status });
  }
  return failures;
}

/** Removes `parent/name` whatever it is. */
export async function removeAny(vfs: Vfs, cred: Credentials, parent: Ino, name: Buffer, ino: Ino, type: FileType, path: readonly Buffer[]): Promise<TreeFailure[]> {
  if (type === FileType.Directory) return removeTree(vfs, cred, parent, name, ino, path);
  await vfs.unlink(cred, parent, name);
  return [];
}

/** Copies the dead properties of `src` to `dst` (RFC 4918 §9.8.2: properties are copied). */
async function copyDeadProps(vfs: Vfs, cred: Credentials, src: Ino, dst: Ino): Promise<void> {
  const key = Buffer.from(DEAD_PROPS_XATTR);
  let value: Buffer;
  try {
    value = await vfs.getxattr(cred, src, key);
  } catch (err) {
    if (isFsError(err, Errno.ENODATA) || isFsError(err, Errno.ENOTSUP)) return;
    throw err;
  }
  await vfs.setxattr(cred, dst, key, value);
}

/**
 * Copies `src` (inode, type, mode, length) to `dstParent/dstName`, which must not exist; with
 * `deep` a collection's members follow. Throws when the top-level copy fails; members' failures
 * are returned.
 */
export async function copyTree(
  vfs: Vfs, cred: Credentials,
  src: { ino: Ino; type: FileType; mode: number; length: number },
  dstParent: Ino, dstName: Buffer, dstPath: readonly Buffer[], deep: boolean,
): Promise<TreeFailure[]> {
  if (src.type === FileType.Directory) {
    const made = await vfs.mkdir(cred, dstParent, dstName, src.mode, 0);
    await copyDeadProps(vfs, cred, src.ino, made.ino);
    if (!deep) return [];
    const failures: TreeFailure[] = [];
    for (const c of await children(vfs, cred, src.ino)) {
      const p = [...dstPath, c.name];
      try {
        const attr = await vfs.getattr(cred, c.ino);
        failures.push(...await copyTree(vfs, cred, { ino: c.ino, type: attr.type, mode: attr.mode, length: attr.length }, made.ino, c.name, p, true));
      } catch (err) {
        failures.push({ path: p, isCollection: c.type === FileType.Directory, status: toHttpError(err, 'parent').status });
      }
    }
    return failures;
  }
  if (src.type === FileType.Symlink) {
    await vfs.symlink(cred, dstParent, dstName, await vfs.readlink(cred, src.ino));
    return [];
  }
  const created = await vfs.create(cred, dstParent, dstName, src.mode, 0, true);
  if (src.length > 0) await vfs.copyRange(cred, src.ino, 0, created.ino, 0, src.length);
  await copyDeadProps(vfs, cred, src.ino, created.ino);
  return [];
}

/** Answers 207 Multi-Status listing each member a tree operation could not handle, with its status. */
export async function sendTreeFailures(r: DavRequest, failures: readonly TreeFailure[]): Promise<void> {
  r.res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
  const w = new MultistatusWriter(r.res, { signal: r.signal });
  for (const f of failures) await w.write({ hrefs: [hrefOfFs(r, f.path, f.isCollection)], status: f.status });
  await w.end();
  r.res.end();
}
