/**
 * The one errno -> nfsstat3 table of the NFS front end (STYLE.md §4; RFC 1813 §2.6), plus
 * Nfs3Error for the statuses that have no errno (BADHANDLE, NOT_SYNC, TOOSMALL, BADTYPE...).
 * Procedures throw FsError (from vfs) or Nfs3Error; the procedure wrapper calls statusOf() once.
 * No procedure keeps a status table of its own.
 */
import { Errno, FsError } from '../../../util/errno.js';
import {
  NFS3ERR_ACCES, NFS3ERR_DQUOT, NFS3ERR_EXIST, NFS3ERR_FBIG, NFS3ERR_INVAL, NFS3ERR_IO, NFS3ERR_ISDIR, NFS3ERR_JUKEBOX,
  NFS3ERR_MLINK, NFS3ERR_NAMETOOLONG, NFS3ERR_NODEV, NFS3ERR_NOENT, NFS3ERR_NOSPC, NFS3ERR_NOTDIR, NFS3ERR_NOTEMPTY,
  NFS3ERR_NOTSUPP, NFS3ERR_NXIO, NFS3ERR_PERM, NFS3ERR_ROFS, NFS3ERR_SERVERFAULT, NFS3ERR_STALE, NFS3ERR_XDEV, NFSSTAT3_NAMES,
} from './types.js';

/** A failure that is an NFS status, not a file-system errno (handle checks, guards, reply sizes). */
export class Nfs3Error extends Error {
  override readonly name = 'Nfs3Error';
  /** Stable code: the RFC name of the status, e.g. 'NFS3ERR_BADHANDLE'. */
  readonly code: string;

  constructor(readonly status: number, message?: string) {
    const code = NFSSTAT3_NAMES[status] ?? `NFS3ERR_${status}`;
    super(message === undefined ? code : `${code}: ${message}`);
    this.code = code;
  }
}

/**
 * errno -> nfsstat3. Errnos missing here become NFS3ERR_IO. EAGAIN and ETIMEDOUT (the metadata
 * engine out of reach) are JUKEBOX: the Linux client waits and retries instead of failing the
 * application (research/nfs.md §3 "Errors").
 */
const ERRNO_TO_NFS3: ReadonlyMap<Errno, number> = new Map([
  [Errno.EPERM, NFS3ERR_PERM],
  [Errno.ENOENT, NFS3ERR_NOENT],
  [Errno.EIO, NFS3ERR_IO],
  [Errno.ENXIO, NFS3ERR_NXIO],
  [Errno.EAGAIN, NFS3ERR_JUKEBOX],
  [Errno.ETIMEDOUT, NFS3ERR_JUKEBOX],
  [Errno.EACCES, NFS3ERR_ACCES],
  [Errno.EEXIST, NFS3ERR_EXIST],
  [Errno.EXDEV, NFS3ERR_XDEV],
  [Errno.ENODEV, NFS3ERR_NODEV],
  [Errno.ENOTDIR, NFS3ERR_NOTDIR],
  [Errno.EISDIR, NFS3ERR_ISDIR],
  [Errno.EINVAL, NFS3ERR_INVAL],
  [Errno.EFBIG, NFS3ERR_FBIG],
  [Errno.ENOSPC, NFS3ERR_NOSPC],
  [Errno.EROFS, NFS3ERR_ROFS],
  [Errno.EMLINK, NFS3ERR_MLINK],
  [Errno.ENAMETOOLONG, NFS3ERR_NAMETOOLONG],
  [Errno.ENOSYS, NFS3ERR_NOTSUPP],
  [Errno.ENOTEMPTY, NFS3ERR_NOTEMPTY],
  [Errno.ENOTSUP, NFS3ERR_NOTSUPP],
  [Errno.ESTALE, NFS3ERR_STALE],
  [Errno.EDQUOT, NFS3ERR_DQUOT],
]);

/** The nfsstat3 of an errno; unknown errnos are NFS3ERR_IO. */
export function nfsStatusOfErrno(errno: Errno): number {
  return ERRNO_TO_NFS3.get(errno) ?? NFS3ERR_IO;
}

/**
 * The nfsstat3 for anything a procedure threw: Nfs3Error keeps its status, FsError goes through
 * the table, anything else (a bug, not a file-system condition) is NFS3ERR_SERVERFAULT and the
 * caller logs it.
 */
export function statusOf(err: unknown): number {
  if (err instanceof Nfs3Error) return err.status;
  if (err instanceof FsError) return nfsStatusOfErrno(err.errno);
  return NFS3ERR_SERVERFAULT;
}

/** Errnos a failed flush keeps as its own status; any other failure to store data is EIO. */
const DATA_LOSS_ERRNOS: ReadonlySet<Errno> = new Set([Errno.ENOSPC, Errno.EDQUOT, Errno.EROFS, Errno.EAGAIN, Errno.ETIMEDOUT, Errno.ESTALE]);

/**
 * The error a COMMIT or stable WRITE answers when vfs could not make data durable: out of space,
 * quota, read-only and retry-later keep their status; anything else (an object store refusing a
 * block with EEXIST, say) means nothing more than "the data was not stored", NFS3ERR_IO.
 */
export function syncFailure(err: unknown): unknown {
  if (err instanceof FsError && !DATA_LOSS_ERRNOS.has(err.errno)) return new FsError(Errno.EIO, `sync failed: ${err.message}`, { cause: err });
  return err;
}

/** Readable name of a status for logs. */
export const statusName = (status: number): string => NFSSTAT3_NAMES[status] ?? String(status);
