/**
 * Binary encodings of the JuiceFS volume format (spec §B.5): attr, directory entry, slice record,
 * delayed-slice record, quota pair. All integers big-endian. Shared by every engine and by dump/load;
 * nothing here performs I/O.
 */
import { Errno, FsError } from '../util/errno.js';
import { type Attr, type FileType, type Ino, type SliceRecord, type SliceId, toIno, toSliceId } from './types.js';

const ATTR_FIXED = 63;

/** Encodes an Attr as JuiceFS writes it: 72 bytes, 73 with a tier, 80/81 with ACL ids (spec §B.5.1, §I). */
export function encodeAttr(a: Attr): Buffer {
  const hasAcl = a.accessAclId !== 0 || a.defaultAclId !== 0;
  const hasTier = a.tier !== 0;
  const size = ATTR_FIXED + 8 + (hasAcl ? 8 : 0) + (hasTier ? 1 : 0) + 1;
  const b = Buffer.alloc(size);
  b.writeUInt8(a.flags & 0xff, 0);
  b.writeUInt16BE(((a.type & 0xf) << 12) | (a.mode & 0o7777), 1);
  b.writeUInt32BE(a.uid >>> 0, 3);
  b.writeUInt32BE(a.gid >>> 0, 7);
  b.writeBigInt64BE(BigInt(a.atime), 11);
  b.writeUInt32BE(a.atimeNs >>> 0, 19);
  b.writeBigInt64BE(BigInt(a.mtime), 23);
  b.writeUInt32BE(a.mtimeNs >>> 0, 31);
  b.writeBigInt64BE(BigInt(a.ctime), 35);
  b.writeUInt32BE(a.ctimeNs >>> 0, 43);
  b.writeUInt32BE(a.nlink >>> 0, 47);
  b.writeBigUInt64BE(BigInt(a.length), 51);
  b.writeUInt32BE(a.rdev >>> 0, 59);
  b.writeBigUInt64BE(a.parent, 63);
  let p = 71;
  if (hasAcl) {
    b.writeUInt32BE(a.accessAclId >>> 0, p);
    b.writeUInt32BE(a.defaultAclId >>> 0, p + 4);
    p += 8;
  }
  if (hasTier) b.writeUInt8(a.tier, p);
  // the last byte stays zero: the padding byte every JuiceFS writer produces
  return b;
}

/**
 * A big-endian 64-bit integer as a number, rounded like Number(bigint) beyond 2^53 (one rounding
 * of the exact sum); no BigInt is allocated, which matters when a listing decodes thousands.
 */
const int64At = (b: Buffer, off: number): number => b.readInt32BE(off) * 2 ** 32 + b.readUInt32BE(off + 4);
const uint64At = (b: Buffer, off: number): number => b.readUInt32BE(off) * 2 ** 32 + b.readUInt32BE(off + 4);

/** Decodes an attr value with JuiceFS's rules for optional trailing fields. */
export function decodeAttr(b: Buffer): Attr {
  if (b.length < ATTR_FIXED) throw new FsError(Errno.EIO, `corrupt attr: ${b.length} bytes`);
  const typeMode = b.readUInt16BE(1);
  const a: Attr = {
    flags: b.readUInt8(0),
    type: (typeMode >> 12) as FileType,
    mode: typeMode & 0o7777,
    uid: b.readUInt32BE(3),
    gid: b.readUInt32BE(7),
    atime: int64At(b, 11),
    atimeNs: b.readUInt32BE(19),
    mtime: int64At(b, 23),
    mtimeNs: b.readUInt32BE(31),
    ctime: int64At(b, 35),
    ctimeNs: b.readUInt32BE(43),
    nlink: b.readUInt32BE(47),
    length: uint64At(b, 51),
    rdev: b.readUInt32BE(59),
    parent: toIno(0n),
    accessAclId: 0,
    defaultAclId: 0,
    tier: 0,
  };
  let p = ATTR_FIXED;
  if (b.length - p >= 8) {
    a.parent = toIno(b.readBigUInt64BE(p));
    p += 8;
  }
  if (b.length - p >= 8) {
    a.accessAclId = b.readUInt32BE(p);
    a.defaultAclId = b.readUInt32BE(p + 4);
    p += 8;
  }
  if (b.length - p >= 1) a.tier = b.readUInt8(p);
  return a;
}

/** 9-byte directory entry value: u8 type + u64 inode (spec §B.5.2). */
export function encodeEntry(type: FileType, ino: Ino): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt8(type, 0);
  b.writeBigUInt64BE(ino, 1);
  return b;
}

export function decodeEntry(b: Buffer): { type: FileType; ino: Ino } {
  if (b.length !== 9) throw new FsError(Errno.EIO, `corrupt dir entry: ${b.length} bytes`);
  return { type: b.readUInt8(0) as FileType, ino: toIno(b.readBigUInt64BE(1)) };
}

export const SLICE_RECORD_SIZE = 24;

/** 24-byte slice record: u32 pos, u64 id, u32 size, u32 off, u32 len (spec §B.5.3). */
export function encodeSlice(s: SliceRecord): Buffer {
  const b = Buffer.alloc(SLICE_RECORD_SIZE);
  writeSlice(b, 0, s);
  return b;
}

function writeSlice(b: Buffer, at: number, s: SliceRecord): void {
  b.writeUInt32BE(s.pos >>> 0, at);
  b.writeBigUInt64BE(s.id, at + 4);
  b.writeUInt32BE(s.size >>> 0, at + 12);
  b.writeUInt32BE(s.off >>> 0, at + 16);
  b.writeUInt32BE(s.len >>> 0, at + 20);
}

export function decodeSlice(b: Buffer, at = 0): SliceRecord {
  return {
    pos: b.readUInt32BE(at),
    id: toSliceId(b.readBigUInt64BE(at + 4)),
    size: b.readUInt32BE(at + 12),
    off: b.readUInt32BE(at + 16),
    len: b.readUInt32BE(at + 20),
  };
}

/** Concatenated slice records, as SQL `jfs_chunk.slices` stores a whole list. */
export function encodeSlices(list: readonly SliceRecord[]): Buffer {
  const b = Buffer.alloc(list.length * SLICE_RECORD_SIZE);
  list.forEach((s, i) => writeSlice(b, i * SLICE_RECORD_SIZE, s));
  return b;
}

/** Decodes concatenated records; a trailing partial record is corruption. */
export function decodeSlices(b: Buffer): SliceRecord[] {
  if (b.length % SLICE_RECORD_SIZE !== 0) throw new FsError(Errno.EIO, `corrupt slice list: ${b.length} bytes`);
  const out: SliceRecord[] = [];
  for (let at = 0; at < b.length; at += SLICE_RECORD_SIZE) out.push(decodeSlice(b, at));
  return out;
}

/** 12-byte delayed slice record (u64 id, u32 size) of `delSlices` / `jfs_delslices` (spec §B.5.6). */
export function encodeDelayedSlices(list: readonly { id: SliceId; size: number }[]): Buffer {
  const b = Buffer.alloc(list.length * 12);
  list.forEach((s, i) => {
    b.writeBigUInt64BE(s.id, i * 12);
    b.writeUInt32BE(s.size >>> 0, i * 12 + 8);
  });
  return b;
}

export function decodeDelayedSlices(b: Buffer): { id: SliceId; size: number }[] {
  const out: { id: SliceId; size: number }[] = [];
  for (let at = 0; at + 12 <= b.length; at += 12) out.push({ id: toSliceId(b.readBigUInt64BE(at)), size: b.readUInt32BE(at + 8) });
  return out;
}

/** 16-byte quota value: i64 maxSpace, i64 maxInodes (spec §B.5.4). */
export function encodeQuota(maxSpace: bigint, maxInodes: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64BE(maxSpace, 0);
  b.writeBigInt64BE(maxInodes, 8);
  return b;
}

export function decodeQuota(b: Buffer): { maxSpace: bigint; maxInodes: bigint } {
  if (b.length !== 16) throw new FsError(Errno.EIO, `corrupt quota: ${b.length} bytes`);
  return { maxSpace: b.readBigInt64BE(0), maxInodes: b.readBigInt64BE(8) };
}
