/**
 * Parses a JuiceFS SQLite metadata URL (spec §C.1): `sqlite3:///abs/path/file.db` or
 * `sqlite3://relative.db`, with optional query options. Only `table_prefix` changes what we do;
 * the driver options JuiceFS adds (`cache`, `_journal`, `_timeout`...) are accepted and ignored
 * because we always open with WAL and a 5 s busy timeout. Pure string work, no I/O.
 */
import { Errno, FsError } from '../../util/errno.js';

export interface SqliteUrl {
  /** File path as given: absolute for `sqlite3:///...`, else relative to the working directory. */
  path: string;
  /** `table_prefix` option; '' means the default `jfs_` tables. */
  tablePrefix: string;
}

const SCHEME = 'sqlite3://';

export function parseSqliteUrl(url: string): SqliteUrl {
  if (!url.startsWith(SCHEME)) throw new FsError(Errno.EINVAL, `not a sqlite3:// URL: ${url}`);
  const rest = url.slice(SCHEME.length);
  const qm = rest.indexOf('?');
  const path = qm < 0 ? rest : rest.slice(0, qm);
  if (path === '' || path === '/') throw new FsError(Errno.EINVAL, `sqlite3 URL has no file path: ${url}`);
  const params = new URLSearchParams(qm < 0 ? '' : rest.slice(qm + 1));
  const tablePrefix = params.get('table_prefix') ?? '';
  if (!/^[A-Za-z0-9_]*$/.test(tablePrefix)) throw new FsError(Errno.EINVAL, `invalid table_prefix: ${tablePrefix}`);
  return { path, tablePrefix };
}
