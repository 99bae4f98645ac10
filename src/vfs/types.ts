/**
 * The types protocols use, all from one place (STYLE.md §1: protocols -> vfs -> meta): meta's value
 * types re-exported, plus the vfs-level ones (open handles, entries). Definitions only, no logic;
 * protocols never import src/meta, src/cache or src/storage directly.
 */
export type {
  Attr, Credentials, DavLockTable, DirEntry, Ino, SetAttrRequest, StatFs, Timespec,
} from '../meta/types.js';
export {
  FileType, FLAG_APPEND, FLAG_IMMUTABLE, MODE_EXEC, MODE_READ, MODE_WRITE, ROOT_CREDENTIALS, ROOT_INODE, TRASH_INODE,
  CHUNK_SIZE, MAX_NAME_LENGTH, MAX_SYMLINK_LENGTH, isTrashIno, toIno,
} from '../meta/types.js';
export { RENAME_EXCHANGE, RENAME_NOREPLACE } from '../meta/engine.js';
export { S_ISGID, S_ISUID, S_ISVTX } from '../meta/permissions.js';
export type { NewEntry, ReaddirOptions, Removed } from '../meta/meta.js';

import type { Attr, Ino } from '../meta/types.js';

/** An inode with its attributes, as lookup/create/mkdir/... return it. */
export interface Entry {
  /** The inode. */
  ino: Ino;
  /** Its attributes (file lengths include writes not committed yet). */
  attr: Attr;
}

/** An open file of one Vfs. Opaque to protocols except for its fields; valid until release(). */
export interface FileHandle {
  /** Handle number, unique within the Vfs instance while open. */
  readonly fh: number;
  /** The open file. */
  readonly ino: Ino;
  /** MODE_READ | MODE_WRITE as granted by open(). */
  readonly mask: number;
}

/** What open() returns: the handle and fresh attributes (close-to-open, spec §F). */
export interface OpenedFile {
  /** Pass to read/write/flush/fsync/release. */
  handle: FileHandle;
  /** Fresh from meta at open (after the truncate, when asked for). */
  attr: Attr;
}

/** Options of open(). */
export interface OpenOptions {
  /** Truncate to 0 after opening for write (O_TRUNC, WebDAV PUT over an existing file). */
  truncate?: boolean;
  /** Aborts waiting for meta. */
  signal?: AbortSignal;
  /**
   * The file's attributes as meta returned them to the caller just now (create() of a new file):
   * open checks them instead of reading them again. Not for attributes that include pending writes.
   */
  known?: Attr;
}

/** Largest file size: JuiceFS allows 2^31 chunks of 64 MiB, but offsets here are JS numbers (exact to 2^53). */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;
