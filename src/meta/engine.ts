/**
 * MetaEngine: the narrow per-backend part of the metadata layer (STYLE.md §2).
 * BaseMeta (src/meta/base.ts) does every engine-agnostic check (names, permissions, read-only,
 * trash naming, id batches) and calls these primitives. Each `do*` transaction is ONE atomic step
 * in the backend (a Lua script in Redis, one SQL transaction in SQLite) that re-validates the
 * preconditions it is given and writes the exact keys/rows/bytes of spec §B/§C.
 * Engines throw FsError only; backend errors are mapped in exactly one function per engine.
 */
import type {
  Attr, ChunkIndex, DavLockTable, DirEntry, FileType, Ino, SessionInfo, SliceId, SliceRecord, Timespec,
} from './types.js';

/** Counters in SQL meaning ("next unused id"; spec §B.4), as dumps show them. */
export interface Counters {
  usedSpace: number;
  usedInodes: number;
  nextInode: bigint;
  nextChunk: bigint;
  nextSession: number;
  nextTrash: number;
}

export type IdKind = 'inode' | 'slice';

export interface MknodTxn {
  parent: Ino;
  name: Buffer;
  ino: Ino;
  /** Complete attr of the new inode (type, mode after umask, owner, times = now, parent). */
  attr: Attr;
  /** Symlink target; required for symlinks. */
  symlinkTarget?: Buffer;
  /** When the name exists: 'fail' throws EEXIST; 'return' returns it (create without O_EXCL). */
  onExist: 'fail' | 'return';
  now: Timespec;
  /** Parent mtime/ctime are touched only when now - parent.mtime >= this (or its nlink changes); absent = always (spec §B.12). */
  skipDirMtimeMs?: number;
  /** The caller may be answered once the change is committed; it makes it durable later through `durable()`. */
  deferDurability?: boolean;
}

export interface MknodResult {
  ino: Ino;
  attr: Attr;
  /** True when onExist was 'return' and an existing entry was returned untouched. */
  existing: boolean;
  /**
   * The parent directory's attributes as the transaction left them (NFS post-operation
   * attributes without another read); absent when the engine does not report them or `existing`.
   */
  parentAttr?: Attr;
}

/** Where a removed entry goes when trash is on (spec §E.6). */
export interface TrashTarget {
  /** The hourly trash sub-directory (already created). */
  dir: Ino;
  /** `<parentIno>-<ino>-<name>`, truncated to 255 bytes. */
  name: Buffer;
}

export interface UnlinkTxn {
  parent: Ino;
  name: Buffer;
  /** Inode the caller looked up; the engine throws FsError(EAGAIN) if the entry changed meanwhile and BaseMeta retries. */
  expectIno: Ino;
  /** The caller's process has the inode open: on its last link keep the attr (nlink 0) as sustained. */
  keepOpen: boolean;
  /** Session id for the sustained set. */
  sid: number;
  trash: TrashTarget | null;
  now: Timespec;
  /** Parent mtime/ctime are touched only when now - parent.mtime >= this (or its nlink changes); absent = always (spec §B.12). */
  skipDirMtimeMs?: number;
  /** rmdir: the entry must be an empty directory (ENOTDIR / ENOTEMPTY). */
  rmdir: boolean;
}

export interface UnlinkResult {
  ino: Ino;
  /** Attr after the change (nlink decremented); null when the inode was deleted. */
  attr: Attr | null;
  /** The inode's last link went away and it is not sustained: data is queued in delfiles. */
  deleted: boolean;
  /** The inode is kept alive for this session (unlinked while open). */
  sustained: boolean;
  /** File length at deletion, for data release. */
  length: number;
  type: FileType;
  /** The parent directory's attributes as the transaction left them; absent when the engine does not report them. */
  parentAttr?: Attr;
}

export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;

export interface RenameTxn {
  srcParent: Ino;
  srcName: Buffer;
  dstParent: Ino;
  dstName: Buffer;
  flags: number;
  expectSrcIno: Ino;
  /** The inode the caller saw at the destination, or null when there was none. */
  expectDstIno: Ino | null;
  /** The replaced destination is open in this process (keep as sustained on its last link). */
  dstKeepOpen: boolean;
  sid: number;
  /** Where a replaced destination goes when trash is on. */
  trash: TrashTarget | null;
  now: Timespec;
  /** Parent mtime/ctime are touched only when now - parent.mtime >= this (or its nlink changes); absent = always (spec §B.12). */
  skipDirMtimeMs?: number;
}

export interface RenameResult {
  ino: Ino;
  attr: Attr;
  /** The replaced destination, when one existed. */
  replaced: UnlinkResult | null;
}

export interface LinkTxn {
  ino: Ino;
  parent: Ino;
  name: Buffer;
  now: Timespec;
  /** Parent mtime/ctime are touched only when now - parent.mtime >= this (or its nlink changes); absent = always (spec §B.12). */
  skipDirMtimeMs?: number;
}

/** Resolved setattr: absolute values only ('now' already turned into a time). */
export interface SetAttrTxn {
  ino: Ino;
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Timespec;
  mtime?: Timespec;
  flags?: number;
  now: Timespec;
}

export interface TruncateTxn {
  ino: Ino;
  length: number;
  now: Timespec;
}

export interface WriteTxn {
  ino: Ino;
  indx: ChunkIndex;
  slice: SliceRecord;
  /** Time of the slice's last write; becomes the file's mtime. */
  mtime: Timespec;
  now: Timespec;
}

export interface WriteResult {
  attr: Attr;
  /** Records in the chunk's list after the append (compaction trigger, spec §B.12). */
  listLength: number;
}

/** Clone [srcOff, srcOff+length) of src into dst at dstOff by referencing the same slices. */
export interface CloneRangeTxn {
  src: Ino;
  srcOff: number;
  dst: Ino;
  dstOff: number;
  length: number;
  now: Timespec;
}

/**
 * Compaction swap of spec §E.3: if the chunk's list still starts with exactly `old`, replace those
 * records by old[0..skipped) ++ [slice] ++ (the rest of the list after `old`), in one transaction.
 */
export interface CompactChunkTxn {
  ino: Ino;
  indx: ChunkIndex;
  /** The first records of the list as the compactor read them. */
  old: readonly SliceRecord[];
  /** Leading records of `old` kept in front of the new slice. */
  skipped: number;
  /** The new slice (off 0, len = size); its refcount is 1 after the swap. */
  slice: SliceRecord;
  /** Trash is on: keep the replaced slices referenced (delSlices, spec §B.9) instead of releasing them. */
  delayed: boolean;
  now: Timespec;
}

export interface CompactChunkResult {
  /** False when the list no longer starts with `old` (nothing changed; the caller deletes the new slice). */
  applied: boolean;
  /** Replaced slices whose last reference went away (their objects must be deleted, then forgotten). */
  freed: { id: SliceId; size: number }[];
}

/**
 * One item of a volume-wide slice scan (gc, fsck; spec §D.6): a chunk's stored list (any inode,
 * reachable or not), slices a compaction replaced and trash keeps (`delSlices`, §B.9), or a slice
 * whose refcount reached zero and whose objects are still to be deleted.
 */
export type SliceScanItem =
  | { kind: 'chunk'; ino: Ino; indx: ChunkIndex; slices: SliceRecord[] }
  | { kind: 'delayed'; slices: { id: SliceId; size: number }[] }
  | { kind: 'unreferenced'; id: SliceId; size: number };

export interface DelFile {
  ino: Ino;
  length: number;
  /** Unix seconds when queued. */
  expire: number;
}

export interface DirStats {
  dataLength: number;
  usedSpace: number;
  usedInodes: number;
}

export interface Quota {
  maxSpace: number;
  maxInodes: number;
  usedSpace: number;
  usedInodes: number;
}

export interface AclRule {
  owner: number;
  group: number;
  mask: number;
  other: number;
  users: { id: number; perm: number }[];
  groups: { id: number; perm: number }[];
}

export interface ReaddirPage {
  /** Entries with engine positions >= 1 as `cookie`, in ascending position order. */
  entries: DirEntry[];
  /** False when the directory has no entries after the last one returned. */
  more: boolean;
}

/**
 * Bulk writer for `ferry load` into an empty volume (spec §H). Writes are buffered and applied
 * in batches; nothing is visible to other clients until commit() returns.
 */
export interface VolumeLoader {
  setting(json: string): void;
  /** May come again for the same inode (hard links found late): the last call wins. */
  node(ino: Ino, attr: Attr): void;
  entry(parent: Ino, name: Buffer, type: FileType, ino: Ino): void;
  /** Parents of a hard-linked inode (Redis `p<ino>`; implicit in SQL edges). */
  parents(ino: Ino, counts: ReadonlyMap<Ino, number>): void;
  symlink(ino: Ino, target: Buffer): void;
  xattr(ino: Ino, name: Buffer, value: Buffer): void;
  chunk(ino: Ino, indx: ChunkIndex, slices: readonly SliceRecord[]): void;
  /** Reference count (>= 1) of every slice with id > 0; engines store it in their own convention. */
  sliceRef(id: SliceId, size: number, refs: number): void;
  dirStats(ino: Ino, stats: DirStats): void;
  dirQuota(ino: Ino, quota: Quota): void;
  userGroupQuota(kind: 'user' | 'group', id: number, quota: Quota): void;
  /** Ids count up from 1; the engine's ACL id counter (`aclMaxId`) must end at the largest one. */
  acl(id: number, rule: AclRule): void;
  delFile(file: DelFile): void;
  sustained(sid: number, ino: Ino): void;
  counters(c: Counters): void;
  commit(): Promise<void>;
  /** Discards everything given so far (a failed load); the loader is unusable afterwards. */
  abort?(): Promise<void>;
}

export interface MetaEngine {
  /** 'redis' | 'sqlite' | 'memory', for logs and metrics. */
  readonly kind: string;
  close(): Promise<void>;

  /** Raw setting JSON, or null when the volume is not formatted. */
  getSetting(): Promise<string | null>;
  /** Writes the setting; creates the root inode when `root` is given and the trash root when `trashRoot` is given and it is missing (a re-format may turn trash on). Atomic. */
  doFormat(settingJson: string, root: Attr | null, trashRoot: Attr | null): Promise<void>;
  /** Removes every key/row of the volume (tests, `ferry destroy`). */
  doReset(): Promise<void>;
  /** True when no inode other than root/trash exists (load refuses non-empty volumes). */
  isEmpty(): Promise<boolean>;

  /** Reserves `count` ids; returns the first of [first, first+count). Never reuses an id. */
  allocateIds(kind: IdKind, count: number): Promise<bigint>;
  /** INCR nextTrash; returns the new trash sub-directory number (>= 1). */
  nextTrashId(): Promise<number>;
  getCounters(): Promise<Counters>;

  /** ENOENT when the inode does not exist. */
  doGetAttr(ino: Ino): Promise<Attr>;
  /** Batch getattr (readdir-plus); null for missing inodes. */
  doGetAttrs(inos: readonly Ino[]): Promise<(Attr | null)[]>;
  /** Entry lookup with the child's attr in one step; ENOENT when absent, ENOTDIR when parent is not a dir. */
  doLookup(parent: Ino, name: Buffer): Promise<{ ino: Ino; type: FileType; attr: Attr }>;
  doMknod(t: MknodTxn): Promise<MknodResult>;
  /** Resolves once every change committed so far, deferred ones included, is durable (EIO when one may be lost). */
  durable(): Promise<void>;
  /** unlink and rmdir. */
  doUnlink(t: UnlinkTxn): Promise<UnlinkResult>;
  doRename(t: RenameTxn): Promise<RenameResult>;
  /** EPERM for directories; EEXIST when the name exists. */
  doLink(t: LinkTxn): Promise<Attr>;
  doSetAttr(t: SetAttrTxn): Promise<Attr>;
  /** Appends hole records as spec §B.9 and sets length; EISDIR/EPERM for non-files. */
  doTruncate(t: TruncateTxn): Promise<Attr>;
  doReadlink(ino: Ino): Promise<Buffer>;
  /** One page of entries with position > `after` (0 = from the start); `plus` fills attr. */
  doReaddir(ino: Ino, after: bigint, limit: number, plus: boolean): Promise<ReaddirPage>;

  doGetXattr(ino: Ino, name: Buffer): Promise<Buffer>;
  /**
   * Optional batch of doGetXattr for many inodes, in one backend round-trip: one value per inode,
   * in order, null where the inode has no such xattr or is gone. Without it, BaseMeta loops.
   */
  doGetXattrs?(inos: readonly Ino[], name: Buffer): Promise<(Buffer | null)[]>;
  /** flags: 0 any, 1 XATTR_CREATE (EEXIST), 2 XATTR_REPLACE (ENODATA). */
  doSetXattr(ino: Ino, name: Buffer, value: Buffer, flags: number): Promise<void>;
  doListXattr(ino: Ino): Promise<Buffer[]>;
  /** ENODATA when absent. */
  doRemoveXattr(ino: Ino, name: Buffer): Promise<void>;

  /** Stored (unresolved) slice list of one chunk, oldest first. */
  doReadSlices(ino: Ino, indx: ChunkIndex): Promise<SliceRecord[]>;
  doWriteSlice(t: WriteTxn): Promise<WriteResult>;
  doCloneRange(t: CloneRangeTxn): Promise<Attr>;
  /**
   * Compaction swap (spec §E.3): atomic; compares the first old.length records byte for byte;
   * decrements the refcount of each replaced record with id > 0 unless `delayed`. Optional until
   * every engine has it: BaseMeta.compactChunk answers ENOSYS for engines without it.
   */
  doCompactChunk?(t: CompactChunkTxn): Promise<CompactChunkResult>;
  /**
   * Number of chunk indexes that have a slice list (for dump/info), ascending. `queuedLength`: the
   * length the file's delfiles entry holds, when the caller has it (releasing a deleted file), so
   * the engine need not look the entry up.
   */
  doListChunks(ino: Ino, queuedLength?: number): Promise<ChunkIndex[]>;
  /** Drops a chunk's list, decrementing refcounts; returns the slices no longer referenced. */
  doDropChunk(ino: Ino, indx: ChunkIndex): Promise<{ id: SliceId; size: number }[]>;
  /**
   * Optional: doDropChunk of every chunk below `length` of a deleted file, in one step (releasing
   * a file costs one round trip instead of a listing plus one per chunk); the slices no longer
   * referenced, each once. Without it, BaseMeta lists the chunks and drops them one by one.
   */
  doDropChunks?(ino: Ino, length: number): Promise<{ id: SliceId; size: number }[]>;
  /** Forgets the refcount entry of a slice whose objects were deleted. */
  doForgetSlice(id: SliceId, size: number): Promise<void>;
  /** Reference count of a slice (1 when no entry). */
  doSliceRefs(id: SliceId, size: number): Promise<number>;
  /** After a compaction: drops the slice's refcount entry if it still says refcount 1 (Redis "0", spec §B.9); no-op where counts are real. */
  doCleanupZeroRef(id: SliceId, size: number): Promise<void>;
  /** cleanupSlices (spec §B.9): drops every "0" entry still 0 (Redis) and returns up to `limit` unreferenced slices (entry < refcount 1) to delete. */
  doCleanupSliceRefs(limit: number): Promise<{ id: SliceId; size: number }[]>;
  /** Releases the delSlices entries queued before `edgeSec` (unix s): one decrement per record, entry removed, atomically per entry; returns slices now unreferenced. */
  doReleaseDelayedSlices(edgeSec: number): Promise<{ id: SliceId; size: number }[]>;
  doListDelFiles(limit: number): Promise<DelFile[]>;
  /** Every chunk list, delayed slice and not-yet-deleted slice of the volume, page by page; read-only (admin gc/fsck). */
  doScanSlices?(): AsyncIterable<SliceScanItem>;
  /** Parent directories of `ino` with how many entries in each point at it (Redis `p<ino>` or attr parent; SQL edges). */
  doGetParents?(ino: Ino): Promise<Map<Ino, number>>;
  /** Forgets the delfiles entry of `ino`; `length`: the length it holds, when the caller has it (no lookup of the entry). */
  doRemoveDelFile(ino: Ino, length?: number): Promise<void>;
  /** Deletes a sustained inode: queue delfiles, drop attr, counters, SREM (spec §B.9). */
  doDeleteSustained(sid: number, ino: Ino): Promise<DelFile | null>;

  doNewSession(info: SessionInfo, expire: number): Promise<number>;
  doRefreshSession(sid: number, info: SessionInfo, expire: number): Promise<void>;
  doListSessions(): Promise<{ sid: number; expire: number; info: SessionInfo | null; sustained: Ino[] }[]>;
  doFindStaleSessions(now: number, limit: number): Promise<number[]>;
  /** Drops the session record and its lock fields (sustained inodes must be deleted first). */
  doRemoveSession(sid: number): Promise<void>;
  /** Background job lease (spec §B.11): true when this caller won it. */
  doSetIfSmall(name: string, now: number, diff: number): Promise<boolean>;

  doGetDirStats(ino: Ino): Promise<DirStats | null>;
  doGetDirQuotas(): Promise<Map<Ino, Quota>>;
  doGetUserGroupQuotas(kind: 'user' | 'group'): Promise<Map<number, Quota>>;
  doGetAcl(id: number): Promise<AclRule | null>;

  /** Ferry's WebDAV lock table (version 0 and no locks until the first change). */
  doReadDavLocks(): Promise<DavLockTable>;
  /** Just the lock table's version: a reader holding the table at this version holds the current one. */
  doReadDavLocksVersion(): Promise<number>;
  /**
   * Puts (by token) and removes lock records in one atomic step, only while the table is still at
   * `version`; the version then goes up by one. False, changing nothing, when it has moved on.
   */
  doUpdateDavLocks(version: number, put: ReadonlyMap<string, Buffer>, remove: readonly string[]): Promise<boolean>;

  /** A loader for an empty volume (ENOTEMPTY otherwise). */
  newLoader(): Promise<VolumeLoader>;
}
