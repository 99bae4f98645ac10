/**
 * Conversions between vfs attributes and NFSv3 attribute types (RFC 1813 §2.5-§2.6): Attr ->
 * fattr3 / wcc_attr, sattr3 -> SetAttrRequest, specdata3 <-> the Linux dev_t encoding JuiceFS
 * stores in `rdev`. fsid is the volume id (one per volume, the same on every appliance) and fileid
 * the inode, so the Linux client never sees a file change identity. No I/O.
 */
import { Errno, FsError } from '../../../util/errno.js';
import { FileType, type Attr, type Ino, type SetAttrRequest, type Timespec } from '../../../vfs/types.js';
import {
  NF3BLK, NF3CHR, NF3DIR, NF3FIFO, NF3LNK, NF3REG, NF3SOCK,
  type Fattr3, type Nfstime3, type Sattr3, type SetTime, type Specdata3, type WccAttr,
} from './types.js';

const NF3_TYPE: Readonly<Record<FileType, number>> = {
  [FileType.File]: NF3REG,
  [FileType.Directory]: NF3DIR,
  [FileType.Symlink]: NF3LNK,
  [FileType.Fifo]: NF3FIFO,
  [FileType.BlockDev]: NF3BLK,
  [FileType.CharDev]: NF3CHR,
  [FileType.Socket]: NF3SOCK,
};

const MAX_U32 = 0xffffffff;

/** nfstime3 holds unsigned 32-bit seconds: times before 1970 or after 2106 are clamped. */
export function nfstimeOf(sec: number, nsec: number): Nfstime3 {
  const seconds = Math.min(MAX_U32, Math.max(0, Math.trunc(sec)));
  const nseconds = Math.min(999_999_999, Math.max(0, Math.trunc(nsec)));
  return { seconds, nseconds };
}

/** Linux dev_t (new_encode_dev, what FUSE hands JuiceFS) -> specdata3 {major, minor}. */
export function specdataOf(rdev: number): Specdata3 {
  return { specdata1: (rdev & 0xfff00) >>> 8, specdata2: ((rdev & 0xff) | ((rdev >>> 12) & 0xfff00)) >>> 0 };
}

/** specdata3 -> Linux dev_t (new_encode_dev); major is 12 bits, minor 20 bits. */
export function rdevOf(s: Specdata3): number {
  const major = s.specdata1 & 0xfff;
  const minor = s.specdata2 & 0xfffff;
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

/** Bytes of storage a file accounts for: its length rounded up to 4 KiB (directories: 4 KiB). */
function usedOf(a: Attr): bigint {
  if (a.type === FileType.Directory) return 4096n;
  return BigInt(Math.ceil(a.length / 4096) * 4096);
}

export function fattr3Of(a: Attr, ino: Ino, fsid: bigint): Fattr3 {
  return {
    type: NF3_TYPE[a.type] ?? NF3REG,
    mode: a.mode & 0o7777,
    nlink: Math.min(MAX_U32, a.nlink),
    uid: a.uid >>> 0,
    gid: a.gid >>> 0,
    size: BigInt(a.length),
    used: usedOf(a),
    rdev: a.type === FileType.BlockDev || a.type === FileType.CharDev ? specdataOf(a.rdev) : { specdata1: 0, specdata2: 0 },
    fsid,
    fileid: ino,
    atime: nfstimeOf(a.atime, a.atimeNs),
    mtime: nfstimeOf(a.mtime, a.mtimeNs),
    ctime: nfstimeOf(a.ctime, a.ctimeNs),
  };
}

/** The pre-operation attributes (size, mtime, ctime) of an Attr. */
export function wccAttrOfAttr(a: Attr): WccAttr {
  return { size: BigInt(a.length), mtime: nfstimeOf(a.mtime, a.mtimeNs), ctime: nfstimeOf(a.ctime, a.ctimeNs) };
}

export const sameNfstime = (a: Nfstime3, b: Nfstime3): boolean => a.seconds === b.seconds && a.nseconds === b.nseconds;

function timeOf(t: SetTime): Timespec | 'now' {
  if (t === 'server') return 'now';
  if (t.nseconds > 999_999_999) throw new FsError(Errno.EINVAL, `nseconds ${t.nseconds}`);
  return { sec: t.seconds, nsec: t.nseconds };
}

/** sattr3 -> SetAttrRequest; EFBIG for sizes a JS number cannot hold, EINVAL for bad nanoseconds. */
export function setAttrRequestOf(s: Sattr3): SetAttrRequest {
  const req: SetAttrRequest = {};
  if (s.mode !== undefined) req.mode = s.mode & 0o7777;
  if (s.uid !== undefined) req.uid = s.uid;
  if (s.gid !== undefined) req.gid = s.gid;
  if (s.size !== undefined) {
    if (s.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new FsError(Errno.EFBIG, `size ${s.size}`);
    req.size = Number(s.size);
  }
  if (s.atime !== undefined) req.atime = timeOf(s.atime);
  if (s.mtime !== undefined) req.mtime = timeOf(s.mtime);
  return req;
}

/** True when the request changes nothing. */
export const isEmptySetAttr = (req: SetAttrRequest): boolean => Object.keys(req).length === 0;
