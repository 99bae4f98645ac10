/**
 * Value types of the JuiceFS dump JSON (spec §H.1, §H.2) as the writer takes them and the reader
 * yields them: names, symlink targets and xattr values are raw bytes (already unescaped, §H.3),
 * inodes are bigint. Pure data and conversions; no I/O.
 */
import type { AclRule, Counters, DelFile } from '../engine.js';
import { type Attr, FileType, type Format, type Ino, type SliceRecord, toIno } from '../types.js';

/** `attr` of a dump entry (dump.go DumpedAttr): Attr minus parent and ACL ids, plus the inode. */
export interface DumpAttr {
  inode: Ino;
  flags: number;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  atime: number;
  mtime: number;
  ctime: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  nlink: number;
  /** Bytes for regular files; dumps write 0 for every other type. */
  length: number;
  rdev: number;
  tier: number;
}

export interface DumpChunk {
  index: number;
  /** The stored, unresolved slice list, oldest first. */
  slices: SliceRecord[];
}

export interface DumpXattr {
  /** Name bytes as JSON text carries them (names are not %-escaped in dumps). */
  name: Buffer;
  value: Buffer;
}

/** One inode as it appears under a name (everything but `entries`). */
export interface DumpEntry {
  attr: DumpAttr;
  symlink?: Buffer;
  /** Sorted by name bytes when written. */
  xattrs: DumpXattr[];
  accessAcl: AclRule | null;
  defaultAcl: AclRule | null;
  chunks: DumpChunk[];
}

export interface QuotaLimit {
  maxSpace: number;
  maxInodes: number;
}

/** Dumped counters in SQL meaning (next unused ids, spec §B.4). */
export interface DumpCounters extends Counters {
  /** Deprecated, written only when non-zero. */
  nextCleanupSlices?: number;
  lastChangelog?: number;
}

export interface DumpSustained {
  sid: number;
  inodes: Ino[];
}

/** Everything before `FSTree`. */
export interface DumpHeader {
  /** The setting as it should appear (secrets already replaced when they must be). */
  setting: Format;
  counters: DumpCounters;
  sustained: DumpSustained[];
  delFiles: DelFile[];
  /** Directory quotas by inode; omitted from the JSON when empty. */
  quotas: Map<Ino, QuotaLimit>;
  /** Only full-volume dumps carry user/group quotas. */
  userQuotas: Map<number, QuotaLimit>;
  groupQuotas: Map<number, QuotaLimit>;
}

const TYPE_NAMES: Record<FileType, string> = {
  [FileType.File]: 'regular',
  [FileType.Directory]: 'directory',
  [FileType.Symlink]: 'symlink',
  [FileType.Fifo]: 'fifo',
  [FileType.BlockDev]: 'blockdev',
  [FileType.CharDev]: 'chardev',
  [FileType.Socket]: 'socket',
};

export function typeName(t: FileType): string {
  return TYPE_NAMES[t];
}

/** The FileType of a dump type name, or null for an unknown name. */
export function typeFromName(name: string): FileType | null {
  for (const [t, n] of Object.entries(TYPE_NAMES)) if (n === name) return Number(t) as FileType;
  return null;
}

/** Dumped form of an engine Attr (length only for regular files, as JuiceFS dumpAttr does). */
export function dumpAttrOf(ino: Ino, a: Attr): DumpAttr {
  return {
    inode: ino, flags: a.flags, type: a.type, mode: a.mode, uid: a.uid, gid: a.gid,
    atime: a.atime, mtime: a.mtime, ctime: a.ctime, atimeNs: a.atimeNs, mtimeNs: a.mtimeNs, ctimeNs: a.ctimeNs,
    nlink: a.nlink, length: a.type === FileType.File ? a.length : 0, rdev: a.rdev, tier: a.tier,
  };
}

/** A directory attr for an inode that has none (JuiceFS dumps a missing trash root this way). */
export function missingDirAttr(ino: bigint): DumpAttr {
  return {
    inode: toIno(ino), flags: 0, type: FileType.Directory, mode: 0, uid: 0, gid: 0, atime: 0, mtime: 0, ctime: 0,
    atimeNs: 0, mtimeNs: 0, ctimeNs: 0, nlink: 2, length: 0, rdev: 0, tier: 0,
  };
}
