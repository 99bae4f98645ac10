/**
 * Errno-like typed errors shared by every layer (STYLE.md §4).
 * meta, storage, cache and vfs throw FsError; each protocol maps errno to its wire status once.
 * Callers branch on `err.errno`, never on message text.
 */

/** Linux errno numbers; the names grep against errno(3). */
export enum Errno {
  EPERM = 1,
  ENOENT = 2,
  EIO = 5,
  ENXIO = 6,
  EBADF = 9,
  EAGAIN = 11,
  EACCES = 13,
  EBUSY = 16,
  EEXIST = 17,
  EXDEV = 18,
  ENODEV = 19,
  ENOTDIR = 20,
  EISDIR = 21,
  EINVAL = 22,
  EFBIG = 27,
  ENOSPC = 28,
  EROFS = 30,
  EMLINK = 31,
  ERANGE = 34,
  ENAMETOOLONG = 36,
  ENOSYS = 38,
  ENOTEMPTY = 39,
  ELOOP = 40,
  ENODATA = 61,
  ENOTSUP = 95,
  /** A backend (the metadata engine) could not be reached in time: the call did not run; try again later. */
  ETIMEDOUT = 110,
  ESTALE = 116,
  EDQUOT = 122,
}

export class FsError extends Error {
  override readonly name = 'FsError';
  /** Stable machine-readable code, e.g. 'ENOENT'. */
  readonly code: string;

  constructor(readonly errno: Errno, message?: string, options?: { cause?: unknown }) {
    super(message === undefined ? Errno[errno] : `${Errno[errno]}: ${message}`, options);
    this.code = Errno[errno] ?? `E${errno}`;
  }
}

/** True when `err` is an FsError, optionally with the given errno. */
export function isFsError(err: unknown, errno?: Errno): err is FsError {
  return err instanceof FsError && (errno === undefined || err.errno === errno);
}

export function fsError(errno: Errno, message?: string, cause?: unknown): FsError {
  return new FsError(errno, message, cause === undefined ? undefined : { cause });
}

/**
 * An FsError for an outcome callers expect and branch on (a lookup that finds no entry), built
 * without a stack trace: capturing one costs about ten times the rest of the error, and a
 * miss happens on every create (NFS clients look a name up before they create it).
 */
export function expectedFsError(errno: Errno, message?: string): FsError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new FsError(errno, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
