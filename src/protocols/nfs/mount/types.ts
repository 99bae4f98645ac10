/**
 * MOUNT version 3 wire types (RFC 1813 §5 and Appendix I): program and procedure numbers,
 * mountstat3, and codecs for dirpath, fhandle3, mountres3, mountlist and exports, both
 * directions (the decoders serve tests and tools). Pure codec, no policy.
 */
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';

export const MOUNT_PROG = 100005;
export const MOUNT_V3 = 3;
/** Version 1 is served for showmount only (DUMP, EXPORT, UMNT, UMNTALL; same wire forms as v3). */
export const MOUNT_V1 = 1;

export const MOUNTPROC3_NULL = 0;
export const MOUNTPROC3_MNT = 1;
export const MOUNTPROC3_DUMP = 2;
export const MOUNTPROC3_UMNT = 3;
export const MOUNTPROC3_UMNTALL = 4;
export const MOUNTPROC3_EXPORT = 5;

/** Maximum bytes in a path name, a host or group name, and a v3 file handle. */
export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;
export const FHSIZE3 = 64;

/** mountstat3. */
export const MNT3_OK = 0;
export const MNT3ERR_PERM = 1;
export const MNT3ERR_NOENT = 2;
export const MNT3ERR_IO = 5;
export const MNT3ERR_ACCES = 13;
export const MNT3ERR_NOTDIR = 20;
export const MNT3ERR_INVAL = 22;
export const MNT3ERR_NAMETOOLONG = 63;
export const MNT3ERR_NOTSUPP = 10004;
export const MNT3ERR_SERVERFAULT = 10006;

/** Readable names for logs. */
export const MOUNTSTAT3_NAMES: Readonly<Record<number, string>> = {
  [MNT3_OK]: 'MNT3_OK', [MNT3ERR_PERM]: 'MNT3ERR_PERM', [MNT3ERR_NOENT]: 'MNT3ERR_NOENT', [MNT3ERR_IO]: 'MNT3ERR_IO',
  [MNT3ERR_ACCES]: 'MNT3ERR_ACCES', [MNT3ERR_NOTDIR]: 'MNT3ERR_NOTDIR', [MNT3ERR_INVAL]: 'MNT3ERR_INVAL',
  [MNT3ERR_NAMETOOLONG]: 'MNT3ERR_NAMETOOLONG', [MNT3ERR_NOTSUPP]: 'MNT3ERR_NOTSUPP', [MNT3ERR_SERVERFAULT]: 'MNT3ERR_SERVERFAULT',
};

/** Bound on list lengths when decoding replies (our own side never sends that many). */
export const MAX_DECODED_LIST = 65536;

/** mountres3: on MNT3_OK a handle and the acceptable auth flavors, otherwise the status alone. */
export interface MountRes3 {
  status: number;
  /** Required when status is MNT3_OK. */
  fh?: Buffer;
  authFlavors?: number[];
}

/** One mountbody: a client host and the path it mounted. */
export interface MountEntry {
  /** The client as the server knows it (its address). */
  hostname: string;
  /** The path it mounted, as sent in MNT. */
  directory: Buffer;
}

/** One exportnode: an exported path and the groups (hosts, networks) allowed to mount it; empty means everyone. */
export interface ExportEntry {
  /** Exported path. */
  dir: Buffer;
  /** Hosts or networks allowed to mount it; empty = everyone. */
  groups: string[];
}

export const decodeDirpath = (r: XdrReader): Buffer => r.string(MNTPATHLEN);

export function encodeMountRes3(w: XdrWriter, res: MountRes3): void {
  w.u32(res.status);
  if (res.status !== MNT3_OK) return;
  if (res.fh === undefined) throw new Error('mountres3 MNT3_OK without a file handle');
  w.opaque(res.fh, FHSIZE3);
  w.array(res.authFlavors ?? [], (x, f) => x.i32(f));
}

export function decodeMountRes3(r: XdrReader): MountRes3 {
  const status = r.u32();
  if (status !== MNT3_OK) return { status };
  return { status: MNT3_OK, fh: r.opaque(FHSIZE3), authFlavors: r.array(MAX_DECODED_LIST, (x) => x.i32()) };
}

export function encodeMountList(w: XdrWriter, list: readonly MountEntry[]): void {
  w.list(list, (x, m) => x.string(m.hostname, MNTNAMLEN).string(m.directory, MNTPATHLEN));
}

export function decodeMountList(r: XdrReader): MountEntry[] {
  return r.list(MAX_DECODED_LIST, (x) => ({ hostname: x.string(MNTNAMLEN).toString('utf8'), directory: x.string(MNTPATHLEN) }));
}

export function encodeExports(w: XdrWriter, list: readonly ExportEntry[]): void {
  w.list(list, (x, e) => {
    x.string(e.dir, MNTPATHLEN);
    x.list(e.groups, (y, g) => y.string(g, MNTNAMLEN));
  });
}

export function decodeExports(r: XdrReader): ExportEntry[] {
  return r.list(MAX_DECODED_LIST, (x) => ({
    dir: x.string(MNTPATHLEN),
    groups: x.list(MAX_DECODED_LIST, (y) => y.string(MNTNAMLEN).toString('utf8')),
  }));
}
