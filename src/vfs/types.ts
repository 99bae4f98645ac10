/**
 * The value types protocols use, re-exported from meta so that protocol code imports only from
 * vfs (STYLE.md §1: protocols -> vfs -> meta). No definitions of its own: when vfs.ts arrives it
 * adds its API next to this file, and these stay the one path protocols take to meta's types.
 */
export type { Attr, Credentials, DirEntry, Ino, SetAttrRequest, StatFs, Timespec } from '../meta/types.js';
export { FileType, ROOT_CREDENTIALS, ROOT_INODE, toIno } from '../meta/types.js';
