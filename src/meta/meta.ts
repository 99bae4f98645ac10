/**
 * Meta: the metadata API vfs calls (STYLE.md §2). Implemented once by BaseMeta over a MetaEngine.
 * Every namespace change is one atomic transaction in the engine. Errors are FsError with an errno;
 * names are raw bytes. Permission checks use the Credentials passed in (uid 0 bypasses mode bits).
 */
import type {
  Attr, ChunkIndex, Credentials, DavLockTable, DirEntry, FileType, Format, Ino, SessionInfo, SetAttrRequest, SliceId,
  SliceRecord, StatFs, Timespec,
} from './types.js';
import type { AclRule, Counters, DirStats, Quota, DelFile, SliceScanItem } from './engine.js';

export interface FormatOptions {
  /** Allow changing mutable fields of an existing setting (immutable ones always refuse: EEXIST). */
  force?: boolean;
}

export interface OpenResult {
  attr: Attr;
}

export interface ReaddirOptions {
  /** Resume after this cookie (0 = from the start, including `.` and `..`). */
  after?: bigint;
  /** Fill `attr` of each entry (readdir-plus). */
  plus?: boolean;
  /** Entries fetched from the engine per round trip. */
  batchSize?: number;
}

/** Callback vfs registers to delete a released slice's objects (meta knows nothing of objects). */
export type SliceDeleter = (id: SliceId, size: number) => Promise<void>;
/**
 * Told when a commit left a chunk's list at a length that calls for compaction (spec §B.12). From
 * SYNC_COMPACTION_RECORDS on, the commit waits for the promise it returns (JuiceFS compacts such a
 * chunk synchronously, so a writer cannot grow a list without bound); it must not reject.
 */
export type CompactionDue = (ino: Ino, indx: ChunkIndex, records: number) => void | Promise<void>;

/** List length from which a commit waits for the chunk's compaction (spec §B.12). */
export const SYNC_COMPACTION_RECORDS = 2500;

/** A name made by mknod/create/mkdir/symlink. */
export interface NewEntry {
  ino: Ino;
  attr: Attr;
  /**
   * The parent directory's attributes as the creating transaction left them (NFS wcc_data
   * without another read); absent when the engine does not report them or nothing was created.
   */
  parentAttr?: Attr;
}

/** What unlink/rmdir report. */
export interface Removed {
  /** The parent directory's attributes as the removing transaction left them; absent when the engine does not report them. */
  parentAttr?: Attr;
}

/** Options of Meta.create. */
export interface CreateOptions {
  /** Answer a new file once committed; durability comes with the caller's later `durable()`. */
  readonly deferDurability?: boolean;
  /**
   * The parent's attributes as the caller read them from the engine just now (the lookup that
   * found it in this request): its permissions are checked on these instead of reading it again.
   */
  readonly parentAttr?: Attr;
}

export interface Meta {
  /** Formats the volume or checks that an existing setting matches (immutable fields: EEXIST). */
  format(setting: Format, opts?: FormatOptions): Promise<Format>;
  /** Loads and validates the setting (MetaVersion <= 1); ENOENT when not formatted. */
  load(): Promise<Format>;
  /** The setting loaded last. */
  readonly setting: Format;
  /** Registers this process as a session (heartbeat every `heartbeatSec`, stale-session cleanup). */
  newSession(info: Partial<SessionInfo>, heartbeatSec?: number): Promise<number>;
  /** Ends the session: deletes its sustained inodes, removes its record, stops background jobs. */
  closeSession(): Promise<void>;
  /** Current session id, 0 when none (read-only). */
  readonly sid: number;
  /** Releases engine connections. */
  close(): Promise<void>;

  statfs(ctx: Credentials, ino: Ino): Promise<StatFs>;
  /** `.` and `..` resolve in the directory; ENOENT, ENOTDIR, EACCES (search permission). */
  lookup(ctx: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }>;
  getattr(ino: Ino): Promise<Attr>;
  /** Owner/root rules of chmod/chown/utimes; size changes truncate. */
  setattr(ctx: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr>;
  /** EACCES when any bit of `mask` (MODE_READ|MODE_WRITE|MODE_EXEC) is not granted. */
  access(ctx: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void>;
  /** Regular files, fifos, sockets, char/block devices. EEXIST unless `exclusive` is false for files. */
  mknod(ctx: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, umask: number, rdev?: number): Promise<NewEntry>;
  /**
   * Regular file; with `exclusive: false` an existing file is returned (after a write-permission
   * check). With `deferDurability` a new file may be answered once committed (visible), before it
   * is durable: the caller makes it durable through `durable()` before acknowledging anything.
   */
  create(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number, exclusive: boolean, opts?: CreateOptions): Promise<NewEntry & { created: boolean }>;
  /** Resolves once every change this process committed so far is durable (deferred creates included). */
  durable(): Promise<void>;
  mkdir(ctx: Credentials, parent: Ino, name: Buffer, mode: number, umask: number): Promise<NewEntry>;
  symlink(ctx: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry>;
  readlink(ino: Ino): Promise<Buffer>;
  /** EPERM for directories, EEXIST when the name exists. */
  link(ctx: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr>;
  /** EISDIR for directories; files open in this process stay readable until close(). */
  unlink(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  /** ENOTEMPTY, ENOTDIR; EINVAL for `.`, EBUSY for the root. */
  rmdir(ctx: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  /** Over an existing target; EINVAL into its own subtree; flags RENAME_NOREPLACE / RENAME_EXCHANGE. */
  rename(ctx: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer, flags?: number): Promise<{ ino: Ino; attr: Attr }>;
  /** Pull-based listing with stable resumable cookies; fetches the next page only when read. */
  readdir(ctx: Credentials, ino: Ino, opts?: ReaddirOptions): AsyncIterable<DirEntry>;
  /** readdir by engine page (none empty; `.` and `..` lead the first); the next page is fetched while the caller handles one. */
  readdirPages(ctx: Credentials, ino: Ino, opts?: ReaddirOptions): AsyncIterable<readonly DirEntry[]>;

  /**
   * Marks `ino` open in this process (unlink keeps it alive until the last close). `attr`: the
   * inode's attributes as the caller just read them from meta (a create's result): checked
   * instead of read again.
   */
  open(ctx: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<OpenResult>;
  /** Drops one open reference; deletes a sustained inode on the last close. */
  release(ino: Ino): Promise<void>;
  isOpen(ino: Ino): boolean;

  getxattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<Buffer>;
  /**
   * getxattr of one name for many inodes (a directory listing's properties) in one round-trip
   * where the engine allows: one value per inode, in order, null where absent or the inode is
   * gone (never ENODATA); EACCES when any of them may not be read.
   */
  getxattrs(ctx: Credentials, inos: readonly Ino[], name: Buffer): Promise<(Buffer | null)[]>;
  setxattr(ctx: Credentials, ino: Ino, name: Buffer, value: Buffer, flags: number): Promise<void>;
  listxattr(ctx: Credentials, ino: Ino): Promise<Buffer[]>;
  removexattr(ctx: Credentials, ino: Ino, name: Buffer): Promise<void>;

  /** Ferry's WebDAV lock table (its own key or table; JuiceFS clients do not see it). */
  readDavLocks(): Promise<DavLockTable>;
  /** The lock table's version alone (a copy read at this version is current). */
  readDavLocksVersion(): Promise<number>;
  /** Applies puts and removals (by token) only while the table is at `version`; false when it moved on. EROFS when read-only. */
  updateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean>;

  /** Stored slice list of one chunk, oldest first (resolve newest-wins in vfs). */
  readSlices(ino: Ino, indx: ChunkIndex): Promise<SliceRecord[]>;
  /** A fresh slice id (allocated in batches). */
  newSliceId(): Promise<SliceId>;
  /** Commits a slice record; length grows to cover it, mtime = `mtime`. */
  writeSlice(ino: Ino, indx: ChunkIndex, slice: SliceRecord, mtime: Timespec): Promise<Attr>;
  /** Server-side copy that references the source's slices instead of copying bytes. */
  cloneRange(ctx: Credentials, src: Ino, srcOff: number, dst: Ino, dstOff: number, length: number): Promise<Attr>;
  /**
   * Compaction swap (spec §E.3): if the list of chunk `indx` still starts with `old`, replaces those
   * records by old[0..skipped) ++ [slice] atomically and releases the replaced slices (through the
   * slice deleter, or later when trash is on). False when the list changed meanwhile: nothing was
   * changed and the caller deletes the new slice's objects. ENOSYS when the engine cannot do it.
   * Does not change the file's attributes (the content is the same).
   */
  compactChunk(ino: Ino, indx: ChunkIndex, old: readonly SliceRecord[], skipped: number, slice: SliceRecord): Promise<boolean>;
  /** Called with each slice whose last reference went away; vfs deletes its objects. */
  onDeleteSlice(deleter: SliceDeleter): void;
  /** Called after a writeSlice whose chunk list now has 99 mod 100 records or more than 350, counted in the engine (spec §B.12), so every writer of the chunk, on any node, counts. */
  onCompactionDue(handler: CompactionDue): void;
  /** Processes queued file deletions (delfiles); returns how many files were released. */
  releaseDeletedFiles(limit?: number): Promise<number>;
  /** cleanupSlices (spec §B.9): forgets refcount entries that say 1 and deletes unreferenced slices; returns how many were deleted. */
  releaseUnreferencedSlices(limit?: number): Promise<number>;
  /**
   * Trash expiry (spec §E.6): deletes, for real, the trash sub-directories older than trash-days
   * (+2 h, as JuiceFS) with everything in them, and releases compaction leftovers (delSlices) older
   * than trash-days. `nowSec` is for tests. Returns the number of inodes removed.
   */
  expireTrash(nowSec?: number): Promise<number>;

  counters(): Promise<Counters>;
  dirStats(ino: Ino): Promise<DirStats | null>;
  dirQuotas(): Promise<Map<Ino, Quota>>;
  userGroupQuotas(kind: 'user' | 'group'): Promise<Map<number, Quota>>;
  acl(id: number): Promise<AclRule | null>;
  listChunks(ino: Ino): Promise<ChunkIndex[]>;
  sliceRefs(id: SliceId, size: number): Promise<number>;
  delFiles(limit?: number): Promise<DelFile[]>;
  /** Every slice the volume still holds on to (chunk lists of all inodes, delayed and not-yet-deleted slices); read-only; ENOSYS when the engine cannot scan. */
  scanSlices(): AsyncIterable<SliceScanItem>;
  /** Parent directories of `ino`, ascending (several for hard links; none for the root); ENOENT when the inode does not exist. */
  parents(ino: Ino): Promise<Ino[]>;
  sessions(): Promise<{ sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[]>;
}
