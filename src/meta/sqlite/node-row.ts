/**
 * Attr <-> `jfs_node` row (spec §C.2, §C.3): times are microseconds since the epoch plus an extra
 * 0..999 ns column, `mode` holds permission bits only and the type has its own column.
 * Integer arithmetic follows Go's (truncating division) so values round-trip with JuiceFS.
 * Pure conversions; no SQL is run here.
 */
import { type Attr, type FileType, type Ino, toIno } from '../types.js';

/** A `jfs_node` row as read with safe integers (nullable columns are those xorm leaves nullable). */
export interface NodeRow {
  inode: bigint;
  type: bigint;
  flags: bigint;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  atimensec: bigint;
  mtimensec: bigint;
  ctimensec: bigint;
  nlink: bigint;
  length: bigint;
  rdev: bigint | null;
  parent: bigint | null;
  access_acl_id: bigint | null;
  default_acl_id: bigint | null;
  tier_id: bigint | null;
}

/** Named parameters for INSERT/UPDATE of a node row. */
export type NodeParams = { [K in keyof NodeRow]: bigint | number };

export const NODE_COLUMNS: readonly (keyof NodeRow)[] = [
  'inode', 'type', 'flags', 'mode', 'uid', 'gid', 'atime', 'mtime', 'ctime', 'atimensec', 'mtimensec',
  'ctimensec', 'nlink', 'length', 'rdev', 'parent', 'access_acl_id', 'default_acl_id', 'tier_id',
];

/** Seconds + nanoseconds to (microseconds, extra nanoseconds 0..999). */
export function toSqlTime(sec: number, nsec: number): { us: bigint; ns: number } {
  const total = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  return { us: total / 1000n, ns: Number(total % 1000n) };
}

/** (microseconds, extra ns) to seconds + nanoseconds, as JuiceFS's parseAttr does. */
export function fromSqlTime(us: bigint, extraNs: bigint): { sec: number; nsec: number } {
  return { sec: Number(us / 1_000_000n), nsec: Number((us % 1_000_000n) * 1000n + extraNs) };
}

const n = (v: bigint | null): number => (v === null ? 0 : Number(v));

export function nodeRowToAttr(r: NodeRow): Attr {
  const a = fromSqlTime(r.atime, r.atimensec);
  const m = fromSqlTime(r.mtime, r.mtimensec);
  const c = fromSqlTime(r.ctime, r.ctimensec);
  return {
    flags: Number(r.flags),
    type: Number(r.type) as FileType,
    mode: Number(r.mode) & 0o7777,
    uid: Number(r.uid),
    gid: Number(r.gid),
    atime: a.sec,
    atimeNs: a.nsec,
    mtime: m.sec,
    mtimeNs: m.nsec,
    ctime: c.sec,
    ctimeNs: c.nsec,
    nlink: Number(r.nlink),
    length: Number(r.length),
    rdev: n(r.rdev),
    parent: toIno(r.parent ?? 0n),
    accessAclId: n(r.access_acl_id),
    defaultAclId: n(r.default_acl_id),
    tier: n(r.tier_id),
  };
}

/** The row's values in NODE_COLUMNS order: positional parameters bind faster than named ones. */
export function attrToNodeValues(ino: Ino, a: Attr): (bigint | number)[] {
  const p = attrToNodeParams(ino, a);
  return NODE_COLUMNS.map((c) => p[c]);
}

export function attrToNodeParams(ino: Ino, a: Attr): NodeParams {
  const at = toSqlTime(a.atime, a.atimeNs);
  const mt = toSqlTime(a.mtime, a.mtimeNs);
  const ct = toSqlTime(a.ctime, a.ctimeNs);
  return {
    inode: ino,
    type: a.type,
    flags: a.flags & 0xff,
    mode: a.mode & 0o7777,
    uid: a.uid >>> 0,
    gid: a.gid >>> 0,
    atime: at.us,
    mtime: mt.us,
    ctime: ct.us,
    atimensec: at.ns,
    mtimensec: mt.ns,
    ctimensec: ct.ns,
    nlink: a.nlink >>> 0,
    length: BigInt(a.length),
    rdev: a.rdev >>> 0,
    parent: a.parent,
    access_acl_id: a.accessAclId >>> 0,
    default_acl_id: a.defaultAclId >>> 0,
    tier_id: a.tier & 0xff,
  };
}
