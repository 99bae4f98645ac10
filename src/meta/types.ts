/**
 * Value types of the metadata layer: inode and slice ids, attributes, slice records, the volume
 * setting (spec §A) and the small records the Meta API passes around. Pure data, no I/O.
 * Words follow the spec: chunk (64 MiB window), slice (one write), block (object).
 */

export type Ino = bigint & { readonly __brand: 'Ino' };
export type SliceId = bigint & { readonly __brand: 'SliceId' };
export type ChunkIndex = number & { readonly __brand: 'ChunkIndex' };

export const toIno = (n: bigint | number): Ino => BigInt(n) as Ino;
export const toSliceId = (n: bigint | number): SliceId => BigInt(n) as SliceId;
export const toChunkIndex = (n: number): ChunkIndex => n as ChunkIndex;

export const ROOT_INODE = 1n as Ino;
/** JuiceFS TrashInode (pkg/meta/interface.go); every inode >= it is "in trash". */
export const TRASH_INODE = 0x7fffffff10000000n as Ino;
export const CHUNK_SIZE = 64 * 1024 * 1024;
export const MAX_NAME_LENGTH = 255;
export const MAX_SYMLINK_LENGTH = 4096;
export const DIR_LENGTH = 4096;

export const isTrashIno = (ino: Ino): boolean => ino >= TRASH_INODE;

/** JuiceFS file type numbers (spec §B.5.1); NOT the POSIX S_IF* bits. */
export enum FileType {
  File = 1,
  Directory = 2,
  Symlink = 3,
  Fifo = 4,
  BlockDev = 5,
  CharDev = 6,
  Socket = 7,
}

/** Attr flag bits (spec §B.5.1 byte 0); unknown bits are preserved. */
export const FLAG_IMMUTABLE = 0x01;
export const FLAG_APPEND = 0x02;
export const FLAG_SKIP_TRASH = 0x20;

/** Inode attributes; seconds + nanoseconds as JuiceFS stores them. */
export interface Attr {
  flags: number;
  type: FileType;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  atimeNs: number;
  mtime: number;
  mtimeNs: number;
  ctime: number;
  ctimeNs: number;
  nlink: number;
  /** Bytes for files, 4096 for directories, target length for symlinks. */
  length: number;
  rdev: number;
  /** Parent inode; 0 when the inode has several parents (hard links, see `p<ino>`). */
  parent: Ino;
  accessAclId: number;
  defaultAclId: number;
  tier: number;
}

/** One 24-byte slice record of a chunk's slice list (spec §B.5.3). id 0 is a hole. */
export interface SliceRecord {
  /** Offset of the visible data inside the 64 MiB chunk. */
  pos: number;
  id: SliceId;
  /** Total bytes of the slice object; decides block count and block keys. */
  size: number;
  /** Offset inside the slice where the visible data starts. */
  off: number;
  /** Visible length. */
  len: number;
}

/** Caller identity, as NFS AUTH_SYS or a WebDAV user map gives it. uid 0 bypasses mode checks. */
export interface Credentials {
  uid: number;
  gid: number;
  /** Supplementary groups (the primary gid need not be repeated). */
  gids: readonly number[];
}

export const ROOT_CREDENTIALS: Credentials = { uid: 0, gid: 0, gids: [] };

/** access() mask bits, as in access(2). */
export const MODE_READ = 4;
export const MODE_WRITE = 2;
export const MODE_EXEC = 1;

/** A directory entry as readdir yields it. */
export interface DirEntry {
  /** Raw name bytes (any byte but '/' and NUL; non-UTF-8 names occur in real volumes). */
  name: Buffer;
  ino: Ino;
  type: FileType;
  /**
   * Stable resume position: readdir({ after: cookie }) continues right after this entry.
   * Always >= 1; `.` is 1 and `..` is 2 when they are listed; entries are > 2.
   */
  cookie: bigint;
  /** Present for readdir-plus. */
  attr?: Attr;
}

export interface StatFs {
  totalBytes: number;
  availBytes: number;
  usedBytes: number;
  totalInodes: number;
  availInodes: number;
  usedInodes: number;
}

/** Fields setattr may change; absent means unchanged. Times as [sec, ns] or 'now'. */
export interface SetAttrRequest {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec | 'now';
  mtime?: Timespec | 'now';
  /** Attr flags (immutable/append ...). */
  flags?: number;
}

export interface Timespec {
  sec: number;
  nsec: number;
}

/** Session record stored in `sessionInfos` / `jfs_session2.info` (spec §B.7). */
export interface SessionInfo {
  Version: string;
  HostName: string;
  IPAddrs?: string[];
  MountPoint: string;
  MountTime: string;
  ProcessID: number;
}

export interface Session {
  sid: number;
  /** Unix seconds after which the session is stale. */
  expire: number;
  info: SessionInfo | null;
  /** Unlinked-while-open inodes this session keeps alive. */
  sustained: Ino[];
}

/**
 * Ferry's WebDAV lock table as read at one moment: the records by lock token (opaque bytes; the
 * WebDAV layer encodes them) and the table's version, which every change increments. It lives
 * under Ferry's own Redis key / SQL table, which JuiceFS clients neither read nor dump.
 */
export interface DavLockTable {
  readonly version: number;
  readonly locks: ReadonlyMap<string, Buffer>;
}

export interface TierSetting {
  ID: number;
  StorageClass: string;
  Tag: string;
}

/** The volume setting JSON (spec §A); field names and order are JuiceFS's. */
export interface Format {
  Name: string;
  UUID: string;
  Storage: string;
  StorageClass?: string;
  Tiers?: Record<string, TierSetting>;
  Bucket: string;
  AccessKey?: string;
  SecretKey?: string;
  SessionToken?: string;
  /** KiB, not bytes. */
  BlockSize: number;
  Compression?: string;
  Shards?: number;
  HashPrefix?: boolean;
  /** Bytes; 0 = unlimited. */
  Capacity?: number;
  Inodes?: number;
  EncryptKey?: string;
  EncryptAlgo?: string;
  KeyEncrypted?: boolean;
  UploadLimit?: number;
  DownloadLimit?: number;
  TrashDays: number;
  MetaVersion?: number;
  MinClientVersion?: string;
  MaxClientVersion?: string;
  DirStats?: boolean;
  UserGroupQuota?: boolean;
  EnableACL: boolean;
  RangerRestUrl?: string;
  RangerService?: string;
  ChangeLog?: boolean;
  ChangeLogMaxAge?: number;
  ChangeLogMaxLines?: number;
  KerbConf?: string;
}

/** align4K of spec §B.10: every inode counts at least 4096 bytes. */
export function align4K(length: number): number {
  if (length === 0) return 4096;
  return Math.ceil(length / 4096) * 4096;
}
