/**
 * The one place where SQLite errors become errnos (STYLE.md §4; JuiceFS `errno()` in
 * pkg/meta/utils.go). FsErrors thrown by the engine's own checks pass through unchanged;
 * anything unknown becomes EIO and is logged here, once, with its stack. The original error
 * is kept as `cause`.
 */
import { Errno, FsError } from '../../util/errno.js';
import { logger } from '../../observability/logger.js';

const log = logger.child({ module: 'meta.sqlite' });

/** better-sqlite3's SqliteError carries the extended result code name, e.g. 'SQLITE_BUSY_SNAPSHOT'. */
function sqliteCode(err: unknown): string | null {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SQLITE_')) return err.code;
  return null;
}

/** Another connection holds the lock: the transaction may be retried as a whole. */
export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== null && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** A UNIQUE or PRIMARY KEY constraint failed (toFsError makes it EEXIST). */
export function isUniqueViolation(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function toFsError(err: unknown, op: string): FsError {
  if (err instanceof FsError) return err;
  const code = sqliteCode(err) ?? '';
  const msg = `sqlite ${op}: ${err instanceof Error ? err.message : String(err)}`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new FsError(Errno.EAGAIN, msg, { cause: err });
  if (code === 'SQLITE_FULL') return new FsError(Errno.ENOSPC, msg, { cause: err });
  if (code.startsWith('SQLITE_READONLY')) return new FsError(Errno.EROFS, msg, { cause: err });
  if (isUniqueViolation(err)) return new FsError(Errno.EEXIST, msg, { cause: err });
  // a database that cannot be opened (missing directory, permissions): the caller reports it
  if (code.startsWith('SQLITE_CANTOPEN') || (err instanceof TypeError && /^Cannot open database/.test(err.message))) {
    return new FsError(Errno.EIO, msg, { cause: err });
  }
  log.error({ err, op }, 'unexpected sqlite error');
  return new FsError(Errno.EIO, msg, { cause: err });
}
