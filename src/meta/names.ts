/**
 * Name rules of the namespace (spec §B.3 `d<ino>` fields): 1..255 raw bytes, no '/' and no NUL,
 * plus the trash naming of spec §E.6. Pure functions; no I/O and no permission logic here.
 */
import { Errno, FsError } from '../util/errno.js';
import { MAX_NAME_LENGTH, type Ino } from './types.js';

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
/** Name under which the trash root shows in the root directory (not an entry of `d1`). */
export const TRASH_NAME = Buffer.from('.trash');

export const isDot = (name: Buffer): boolean => name.equals(DOT);
export const isDotDot = (name: Buffer): boolean => name.equals(DOTDOT);
export const isDotOrDotDot = (name: Buffer): boolean => isDot(name) || isDotDot(name);

/** ENOENT for an empty name, EINVAL for '/' or NUL, ENAMETOOLONG above 255 bytes. */
export function checkName(name: Buffer): void {
  if (name.length === 0) throw new FsError(Errno.ENOENT, 'empty name');
  if (name.length > MAX_NAME_LENGTH) throw new FsError(Errno.ENAMETOOLONG, `${name.length} bytes`);
  if (name.includes(0x2f) || name.includes(0)) throw new FsError(Errno.EINVAL, `name contains '/' or NUL`);
}

/** `<parentIno>-<ino>-<name>`, cut to 255 bytes (spec §E.6). */
export function trashEntryName(parent: Ino, ino: Ino, name: Buffer): Buffer {
  const full = Buffer.concat([Buffer.from(`${parent}-${ino}-`), name]);
  return full.length > MAX_NAME_LENGTH ? full.subarray(0, MAX_NAME_LENGTH) : full;
}

/** The hourly trash sub-directory name `YYYY-MM-DD-HH` (UTC) of a unix time. */
export function trashHourName(unixSec: number): Buffer {
  const d = new Date(unixSec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return Buffer.from(`${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}`);
}

/** A name for logs: UTF-8 when valid, otherwise hex. */
export function printableName(name: Buffer): string {
  const s = name.toString('utf8');
  return Buffer.from(s, 'utf8').equals(name) ? s : `hex:${name.toString('hex')}`;
}
