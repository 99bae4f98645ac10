/**
 * The file-system calls the NFSv3 procedures make, as one narrow interface: the part of the vfs
 * API NFS uses (STYLE.md §2: protocols call vfs only). Stateless by inode, as NFS is: no open
 * handles cross this seam. Errors are FsError with an errno; status.ts maps them.
 * Names are raw bytes. Modes arrive with the client's umask already applied.
 */
import type { BufferPool } from '../../../util/buffer-pool.js';
import type { Attr, Credentials, DirEntry, FileType, Ino, NewEntry, Removed, SetAttrRequest, StatFs } from '../../../vfs/types.js';
import type { PooledRead } from '../../../vfs/vfs.js';

/** Longest name a directory entry can have (JuiceFS and POSIX NAME_MAX). */
export const MAX_NAME_LENGTH_BYTES = 255;

/** access(2) mask bits, as NfsFileSystem.access takes them. */
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

export interface ReaddirRequest {
  /** Continue after this cookie; 0 = from the start (`.` and `..` first). */
  after: bigint;
  /** Fill DirEntry.attr. */
  plus: boolean;
  /** Entries to fetch per backend round trip (a hint). */
  batchSize: number;
}

export interface NfsFileSystem {
  /** Attributes of an inode; ENOENT when it no longer exists (NFS answers STALE). */
  getattr(ino: Ino): Promise<Attr>;
  /**
   * For READ and WRITE, no I/O: the attributes of a file in use here as known within the last
   * moment (Vfs.recentAttr), else undefined.
   */
  recentAttr(ino: Ino): Attr | undefined;
  /** True while the file is in use here: what is cached of it is checked against meta only by a getattr. */
  inUse(ino: Ino): boolean;
  /** chmod/chown/utimes/truncate with the owner/root rules; returns the new attributes. */
  setattr(cred: Credentials, ino: Ino, req: SetAttrRequest): Promise<Attr>;
  /** One name in a directory (`.` and `..` included); ENOENT, ENOTDIR, EACCES. */
  lookup(cred: Credentials, parent: Ino, name: Buffer): Promise<{ ino: Ino; attr: Attr }>;
  /** EACCES unless every bit of `mask` (4 read, 2 write, 1 execute) is granted. */
  access(cred: Credentials, ino: Ino, mask: number, attr?: Attr): Promise<void>;
  /** Target of a symlink; EINVAL for other types. */
  readlink(cred: Credentials, ino: Ino): Promise<Buffer>;
  /**
   * Up to `dest.length` bytes at `offset` (fewer only at end of file), including unflushed writes,
   * copied to the start of `dest`; resolves to the count. readInto and write check no
   * permissions: NFS checks them per call, with knfsd's owner override.
   */
  readInto(cred: Credentials, ino: Ino, offset: number, dest: Buffer): Promise<number>;
  /**
   * As readInto, into a buffer of `pool` that the caller gives back once its reply is sent; a
   * client reading a file in order, one READ at a time, gets each next range read ahead while the
   * previous reply is sent (Vfs.readPooled).
   */
  readPooled(cred: Credentials, ino: Ino, offset: number, length: number, pool: BufferPool): Promise<PooledRead>;
  /** Buffers `data` at `offset` (not yet durable), keeping no view of `data` once settled (its record is reused); EISDIR, EACCES, EFBIG. */
  write(cred: Credentials, ino: Ino, offset: number, data: Buffer): Promise<void>;
  /**
   * Makes every write to `ino` acknowledged so far durable (data in the object store, slices in
   * meta); resolves with the file's attributes after that commit (post-operation attributes).
   */
  fsync(ino: Ino): Promise<Attr>;
  /**
   * Opens, unless it is open already, what readInto/write of `ino` with `mask` (R_OK, W_OK) will
   * use, so that its attribute read can go out with another (the handle check of a WRITE);
   * checks no permissions. EISDIR for directories, EINVAL for other non-files.
   */
  warm(ino: Ino, mask: number): Promise<void>;
  /**
   * A regular file; `exclusive` = EEXIST if the name exists, else the existing file is returned.
   * Like mkdir/symlink/mknod/unlink/rmdir, answers the directory's attributes after the change
   * (`parentAttr`) when the metadata engine reports them.
   */
  create(cred: Credentials, parent: Ino, name: Buffer, mode: number, exclusive: boolean): Promise<NewEntry & { created: boolean }>;
  /** A directory with `mode`; EEXIST when the name exists. */
  mkdir(cred: Credentials, parent: Ino, name: Buffer, mode: number): Promise<NewEntry>;
  /** A symbolic link to `target` (raw bytes). */
  symlink(cred: Credentials, parent: Ino, name: Buffer, target: Buffer): Promise<NewEntry>;
  /** Fifos, sockets, character and block devices. */
  mknod(cred: Credentials, parent: Ino, name: Buffer, type: FileType, mode: number, rdev: number): Promise<NewEntry>;
  /** EISDIR for directories. */
  unlink(cred: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  /** ENOTEMPTY, ENOTDIR. */
  rmdir(cred: Credentials, parent: Ino, name: Buffer): Promise<Removed>;
  /** Replaces an existing target of a compatible type; EINVAL into its own subtree. */
  rename(cred: Credentials, srcParent: Ino, srcName: Buffer, dstParent: Ino, dstName: Buffer): Promise<void>;
  /** EPERM for directories, EEXIST when the name exists; returns the file's new attributes. */
  link(cred: Credentials, ino: Ino, parent: Ino, name: Buffer): Promise<Attr>;
  /** Entries in stable cookie order, resumable after any cookie it yielded; pages fetched on demand. */
  readdir(cred: Credentials, ino: Ino, req: ReaddirRequest): AsyncIterable<DirEntry>;
  /** Space and inode counts of the volume as seen from `ino`. */
  statfs(cred: Credentials, ino: Ino): Promise<StatFs>;
}
