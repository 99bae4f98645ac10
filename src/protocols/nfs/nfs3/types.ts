/**
 * NFSv3 wire types that need no file system (RFC 1813 §2.5-§2.6 and §3.3): NFS3ERR_* and
 * NFSPROC3_* numbers, and codecs for nfstime3, specdata3, fattr3, wcc_attr, pre_op_attr,
 * post_op_attr, wcc_data, post_op_fh3, sattr3, sattrguard3, nfs_fh3 and diropargs3 over plain
 * objects. 64-bit quantities are bigint. Pure codec: no errno mapping (status.ts) and no
 * conversion from vfs attributes (the procedures do that).
 */
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';

export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

export const NFSPROC3_NULL = 0;
export const NFSPROC3_GETATTR = 1;
export const NFSPROC3_SETATTR = 2;
export const NFSPROC3_LOOKUP = 3;
export const NFSPROC3_ACCESS = 4;
export const NFSPROC3_READLINK = 5;
export const NFSPROC3_READ = 6;
export const NFSPROC3_WRITE = 7;
export const NFSPROC3_CREATE = 8;
export const NFSPROC3_MKDIR = 9;
export const NFSPROC3_SYMLINK = 10;
export const NFSPROC3_MKNOD = 11;
export const NFSPROC3_REMOVE = 12;
export const NFSPROC3_RMDIR = 13;
export const NFSPROC3_RENAME = 14;
export const NFSPROC3_LINK = 15;
export const NFSPROC3_READDIR = 16;
export const NFSPROC3_READDIRPLUS = 17;
export const NFSPROC3_FSSTAT = 18;
export const NFSPROC3_FSINFO = 19;
export const NFSPROC3_PATHCONF = 20;
export const NFSPROC3_COMMIT = 21;

/** nfsstat3 (RFC 1813 §2.6). */
export const NFS3_OK = 0;
export const NFS3ERR_PERM = 1;
export const NFS3ERR_NOENT = 2;
export const NFS3ERR_IO = 5;
export const NFS3ERR_NXIO = 6;
export const NFS3ERR_ACCES = 13;
export const NFS3ERR_EXIST = 17;
export const NFS3ERR_XDEV = 18;
export const NFS3ERR_NODEV = 19;
export const NFS3ERR_NOTDIR = 20;
export const NFS3ERR_ISDIR = 21;
export const NFS3ERR_INVAL = 22;
export const NFS3ERR_FBIG = 27;
export const NFS3ERR_NOSPC = 28;
export const NFS3ERR_ROFS = 30;
export const NFS3ERR_MLINK = 31;
export const NFS3ERR_NAMETOOLONG = 63;
export const NFS3ERR_NOTEMPTY = 66;
export const NFS3ERR_DQUOT = 69;
export const NFS3ERR_STALE = 70;
export const NFS3ERR_REMOTE = 71;
export const NFS3ERR_BADHANDLE = 10001;
export const NFS3ERR_NOT_SYNC = 10002;
export const NFS3ERR_BAD_COOKIE = 10003;
export const NFS3ERR_NOTSUPP = 10004;
export const NFS3ERR_TOOSMALL = 10005;
export const NFS3ERR_SERVERFAULT = 10006;
export const NFS3ERR_BADTYPE = 10007;
export const NFS3ERR_JUKEBOX = 10008;

/** Readable nfsstat3 names for logs (STYLE.md §10). */
export const NFSSTAT3_NAMES: Readonly<Record<number, string>> = {
  [NFS3_OK]: 'NFS3_OK', [NFS3ERR_PERM]: 'NFS3ERR_PERM', [NFS3ERR_NOENT]: 'NFS3ERR_NOENT', [NFS3ERR_IO]: 'NFS3ERR_IO',
  [NFS3ERR_NXIO]: 'NFS3ERR_NXIO', [NFS3ERR_ACCES]: 'NFS3ERR_ACCES', [NFS3ERR_EXIST]: 'NFS3ERR_EXIST', [NFS3ERR_XDEV]: 'NFS3ERR_XDEV',
  [NFS3ERR_NODEV]: 'NFS3ERR_NODEV', [NFS3ERR_NOTDIR]: 'NFS3ERR_NOTDIR', [NFS3ERR_ISDIR]: 'NFS3ERR_ISDIR', [NFS3ERR_INVAL]: 'NFS3ERR_INVAL',
  [NFS3ERR_FBIG]: 'NFS3ERR_FBIG', [NFS3ERR_NOSPC]: 'NFS3ERR_NOSPC', [NFS3ERR_ROFS]: 'NFS3ERR_ROFS', [NFS3ERR_MLINK]: 'NFS3ERR_MLINK',
  [NFS3ERR_NAMETOOLONG]: 'NFS3ERR_NAMETOOLONG', [NFS3ERR_NOTEMPTY]: 'NFS3ERR_NOTEMPTY', [NFS3ERR_DQUOT]: 'NFS3ERR_DQUOT',
  [NFS3ERR_STALE]: 'NFS3ERR_STALE', [NFS3ERR_REMOTE]: 'NFS3ERR_REMOTE', [NFS3ERR_BADHANDLE]: 'NFS3ERR_BADHANDLE',
  [NFS3ERR_NOT_SYNC]: 'NFS3ERR_NOT_SYNC', [NFS3ERR_BAD_COOKIE]: 'NFS3ERR_BAD_COOKIE', [NFS3ERR_NOTSUPP]: 'NFS3ERR_NOTSUPP',
  [NFS3ERR_TOOSMALL]: 'NFS3ERR_TOOSMALL', [NFS3ERR_SERVERFAULT]: 'NFS3ERR_SERVERFAULT', [NFS3ERR_BADTYPE]: 'NFS3ERR_BADTYPE',
  [NFS3ERR_JUKEBOX]: 'NFS3ERR_JUKEBOX',
};

/** ftype3 (RFC 1813 §2.5); not the JuiceFS FileType numbers. */
export const NF3REG = 1;
export const NF3DIR = 2;
export const NF3BLK = 3;
export const NF3CHR = 4;
export const NF3LNK = 5;
export const NF3SOCK = 6;
export const NF3FIFO = 7;

/** Sizes (RFC 1813 §2.4). */
export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;
/**
 * Decode cap for filename3 and nfspath3, which the RFC leaves unbounded. Names over 255 bytes
 * still decode so the procedure can answer NFS3ERR_NAMETOOLONG instead of GARBAGE_ARGS.
 */
export const NFS3_MAXPATHLEN = 4096;

/** stable_how (WRITE). */
export const UNSTABLE = 0;
export const DATA_SYNC = 1;
export const FILE_SYNC = 2;

/** createmode3 (CREATE). */
export const UNCHECKED = 0;
export const GUARDED = 1;
export const EXCLUSIVE = 2;

/** ACCESS bits. */
export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

/** FSINFO properties. */
export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;

/** time_how (sattr3). */
export const DONT_CHANGE = 0;
export const SET_TO_SERVER_TIME = 1;
export const SET_TO_CLIENT_TIME = 2;

export interface Nfstime3 {
  seconds: number;
  nseconds: number;
}

export interface Specdata3 {
  specdata1: number;
  specdata2: number;
}

export interface Fattr3 {
  type: number;
  /** Permission bits only (the type is in `type`). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  used: bigint;
  rdev: Specdata3;
  fsid: bigint;
  fileid: bigint;
  atime: Nfstime3;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

export interface WccAttr {
  size: bigint;
  mtime: Nfstime3;
  ctime: Nfstime3;
}

/** pre_op_attr: null when not available. */
export type PreOpAttr = WccAttr | null;
/** post_op_attr: null when not available. */
export type PostOpAttr = Fattr3 | null;

export interface WccData {
  before: PreOpAttr;
  after: PostOpAttr;
}

/** wcc_data without attributes (the object is unknown, or reading them would wait as long again). */
export const NO_WCC: Readonly<WccData> = Object.freeze({ before: null, after: null });

/** How sattr3 sets a time: absent = DONT_CHANGE, 'server' = SET_TO_SERVER_TIME. */
export type SetTime = 'server' | Nfstime3;

/** sattr3: absent fields are not changed. */
export interface Sattr3 {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: bigint;
  atime?: SetTime;
  mtime?: SetTime;
}

export interface Diropargs3 {
  dir: Buffer;
  /** Raw name bytes (may be over 255 bytes or contain any byte; the procedure checks). */
  name: Buffer;
}

export function encodeNfstime3(w: XdrWriter, t: Nfstime3): void {
  w.u32(t.seconds).u32(t.nseconds);
}

export function decodeNfstime3(r: XdrReader): Nfstime3 {
  return { seconds: r.u32(), nseconds: r.u32() };
}

export function encodeSpecdata3(w: XdrWriter, s: Specdata3): void {
  w.u32(s.specdata1).u32(s.specdata2);
}

export function decodeSpecdata3(r: XdrReader): Specdata3 {
  return { specdata1: r.u32(), specdata2: r.u32() };
}

/** fattr3: always 84 bytes. */
export function encodeFattr3(w: XdrWriter, a: Fattr3): void {
  w.enum(a.type).u32(a.mode).u32(a.nlink).u32(a.uid).u32(a.gid).u64(a.size).u64(a.used);
  encodeSpecdata3(w, a.rdev);
  w.u64(a.fsid).u64(a.fileid);
  encodeNfstime3(w, a.atime);
  encodeNfstime3(w, a.mtime);
  encodeNfstime3(w, a.ctime);
}

export function decodeFattr3(r: XdrReader): Fattr3 {
  return {
    type: r.enum(), mode: r.u32(), nlink: r.u32(), uid: r.u32(), gid: r.u32(), size: r.u64(), used: r.u64(),
    rdev: decodeSpecdata3(r), fsid: r.u64(), fileid: r.u64(),
    atime: decodeNfstime3(r), mtime: decodeNfstime3(r), ctime: decodeNfstime3(r),
  };
}

export function encodeWccAttr(w: XdrWriter, a: WccAttr): void {
  w.u64(a.size);
  encodeNfstime3(w, a.mtime);
  encodeNfstime3(w, a.ctime);
}

export function decodeWccAttr(r: XdrReader): WccAttr {
  return { size: r.u64(), mtime: decodeNfstime3(r), ctime: decodeNfstime3(r) };
}

export function encodePreOpAttr(w: XdrWriter, a: PreOpAttr): void {
  w.optional(a, encodeWccAttr);
}

export function decodePreOpAttr(r: XdrReader): PreOpAttr {
  return r.optional(decodeWccAttr);
}

export function encodePostOpAttr(w: XdrWriter, a: PostOpAttr): void {
  w.optional(a, encodeFattr3);
}

export function decodePostOpAttr(r: XdrReader): PostOpAttr {
  return r.optional(decodeFattr3);
}

export function encodeWccData(w: XdrWriter, d: WccData): void {
  encodePreOpAttr(w, d.before);
  encodePostOpAttr(w, d.after);
}

export function decodeWccData(r: XdrReader): WccData {
  return { before: decodePreOpAttr(r), after: decodePostOpAttr(r) };
}

/** The fattr3 part of a wcc_attr: what pre-op attributes are taken from. */
export const wccAttrOf = (a: Fattr3): WccAttr => ({ size: a.size, mtime: a.mtime, ctime: a.ctime });

export function encodeNfsFh3(w: XdrWriter, fh: Buffer): void {
  w.opaque(fh, NFS3_FHSIZE);
}

/** nfs_fh3: opaque<64>; a longer handle is malformed (GARBAGE_ARGS), not a stale one. */
export function decodeNfsFh3(r: XdrReader): Buffer {
  return r.opaque(NFS3_FHSIZE);
}

export function encodePostOpFh3(w: XdrWriter, fh: Buffer | null): void {
  w.optional(fh, encodeNfsFh3);
}

export function decodePostOpFh3(r: XdrReader): Buffer | null {
  return r.optional(decodeNfsFh3);
}

export function encodeFilename3(w: XdrWriter, name: Buffer): void {
  w.string(name, NFS3_MAXPATHLEN);
}

export function decodeFilename3(r: XdrReader): Buffer {
  return r.string(NFS3_MAXPATHLEN);
}

export function encodeDiropargs3(w: XdrWriter, a: Diropargs3): void {
  encodeNfsFh3(w, a.dir);
  encodeFilename3(w, a.name);
}

export function decodeDiropargs3(r: XdrReader): Diropargs3 {
  return { dir: decodeNfsFh3(r), name: decodeFilename3(r) };
}

function encodeSetTime(w: XdrWriter, t: SetTime | undefined): void {
  if (t === undefined) w.enum(DONT_CHANGE);
  else if (t === 'server') w.enum(SET_TO_SERVER_TIME);
  else {
    w.enum(SET_TO_CLIENT_TIME);
    encodeNfstime3(w, t);
  }
}

const TIME_HOW = new Set([DONT_CHANGE, SET_TO_SERVER_TIME, SET_TO_CLIENT_TIME]);

function decodeSetTime(r: XdrReader): SetTime | undefined {
  const how = r.enum(TIME_HOW);
  if (how === DONT_CHANGE) return undefined;
  if (how === SET_TO_SERVER_TIME) return 'server';
  return decodeNfstime3(r);
}

export function encodeSattr3(w: XdrWriter, s: Sattr3): void {
  w.optional(s.mode, (x, v) => x.u32(v));
  w.optional(s.uid, (x, v) => x.u32(v));
  w.optional(s.gid, (x, v) => x.u32(v));
  w.optional(s.size, (x, v) => x.u64(v));
  encodeSetTime(w, s.atime);
  encodeSetTime(w, s.mtime);
}

export function decodeSattr3(r: XdrReader): Sattr3 {
  const s: Sattr3 = {};
  const mode = r.optional((x) => x.u32());
  if (mode !== null) s.mode = mode;
  const uid = r.optional((x) => x.u32());
  if (uid !== null) s.uid = uid;
  const gid = r.optional((x) => x.u32());
  if (gid !== null) s.gid = gid;
  const size = r.optional((x) => x.u64());
  if (size !== null) s.size = size;
  const atime = decodeSetTime(r);
  if (atime !== undefined) s.atime = atime;
  const mtime = decodeSetTime(r);
  if (mtime !== undefined) s.mtime = mtime;
  return s;
}

/** sattrguard3 (SETATTR): the ctime the object must still have, or null for no check. */
export function encodeSattrguard3(w: XdrWriter, ctime: Nfstime3 | null): void {
  w.optional(ctime, encodeNfstime3);
}

export function decodeSattrguard3(r: XdrReader): Nfstime3 | null {
  return r.optional(decodeNfstime3);
}
