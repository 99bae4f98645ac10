/**
 * POSIX permission rules applied by BaseMeta before any engine transaction: rwx classes from
 * mode bits and Credentials, the sticky-bit rule and the group-membership test. Pure functions
 * over Attr; they never read the engine. uid 0 bypasses rwx except exec on files with no x bit.
 */
import { Errno, FsError } from '../util/errno.js';
import { type Attr, type Credentials, FileType, MODE_EXEC } from './types.js';

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;

/** True when the caller's primary or a supplementary gid is `gid`. */
export function inGroup(ctx: Credentials, gid: number): boolean {
  return ctx.gid === gid || ctx.gids.includes(gid);
}

/** The rwx bits (MODE_READ|MODE_WRITE|MODE_EXEC) the caller has on an inode. */
export function grantedMask(ctx: Credentials, attr: Attr): number {
  if (ctx.uid === 0) {
    const anyExec = attr.type === FileType.Directory || (attr.mode & 0o111) !== 0;
    return 0o6 | (anyExec ? MODE_EXEC : 0);
  }
  if (ctx.uid === attr.uid) return (attr.mode >> 6) & 7;
  if (inGroup(ctx, attr.gid)) return (attr.mode >> 3) & 7;
  return attr.mode & 7;
}

/** EACCES unless every bit of `mask` is granted. */
export function checkAccess(ctx: Credentials, attr: Attr, mask: number): void {
  if ((grantedMask(ctx, attr) & mask) !== mask) {
    throw new FsError(Errno.EACCES, `uid ${ctx.uid} lacks ${mask.toString(8)} on mode ${attr.mode.toString(8)}`);
  }
}

/** Sticky directory: only root, the directory owner or the entry owner may remove/rename the entry (EPERM). */
export function checkSticky(ctx: Credentials, dir: Attr, entry: Attr): void {
  if ((dir.mode & S_ISVTX) === 0 || ctx.uid === 0) return;
  if (ctx.uid === dir.uid || ctx.uid === entry.uid) return;
  throw new FsError(Errno.EPERM, 'sticky directory');
}
