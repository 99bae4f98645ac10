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

/** The node columns in NODE_COLUMNS order, of table alias `alias`: the select list of nodeValuesToAttr. */
export function nodeColumns(alias: string): string {
  return NODE_COLUMNS.map((c) => `${alias}.${c}`).join(', ');
}

const col = (name: keyof NodeRow): number => NODE_COLUMNS.indexOf(name);
const C = {
  type: col('type'), flags: col('flags'), mode: col('mode'), uid: col('uid'), gid: col('gid'),
  atime: col('atime'), mtime: col('mtime'), ctime: col('ctime'), atimensec: col('atimensec'),
  mtimensec: col('mtimensec'), ctimensec: col('ctimensec'), nlink: col('nlink'), length: col('length'),
  rdev: col('rdev'), parent: col('parent'), access: col('access_acl_id'), dflt: col('default_acl_id'), tier: col('tier_id'),
} as const;

/**
 * Attr of a node row read as an array (a raw statement selecting nodeColumns; `at`: index of its
 * first node column). Arrays, not objects: better-sqlite3 builds an object per row property by
 * property, which was half the time of a 10,000-entry readdir-plus.
 */
export function nodeValuesToAttr(v: readonly unknown[], at = 0): Attr {
  const big = (i: number): bigint => v[at + i] as bigint;
  const opt = (i: number): number => n(v[at + i] as bigint | null);
  const a = fromSqlTime(big(C.atime), big(C.atimensec));
  const m = fromSqlTime(big(C.mtime), big(C.mtimensec));
  const c = fromSqlTime(big(C.ctime), big(C.ctimensec));
  return {
    flags: Number(big(C.flags)),
    type: Number(big(C.type)) as FileType,
    mode: Number(big(C.mode)) & 0o7777,
    uid: Number(big(C.uid)),
    gid: Number(big(C.gid)),
    atime: a.sec,
    atimeNs: a.nsec,
    mtime: m.sec,
    mtimeNs: m.nsec,
    ctime: c.sec,
    ctimeNs: c.nsec,
    nlink: Number(big(C.nlink)),
    length: Number(big(C.length)),
    rdev: opt(C.rdev),
    parent: toIno((v[at + C.parent] as bigint | null) ?? 0n),
    accessAclId: opt(C.access),
    defaultAclId: opt(C.dflt),
    tier: opt(C.tier),
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
