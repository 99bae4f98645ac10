/**
 * The listing loop READDIR and READDIRPLUS share (RFC 1813 §3.3.16-§3.3.17): pull entries from
 * vfs after the client's cookie and keep those whose exact XDR size still fits the client's
 * count/maxcount (the whole resok body, terminators included). Cookies are vfs cookies passed
 * through unchanged, so both procedures share one cookie space and any cookie we handed out
 * resumes the listing; the cookie verifier is constant and never checked (no BAD_COOKIE).
 * `..` of an export's root is the root itself, as LOOKUP answers it.
 */
import type { DirEntry, Ino } from '../../../vfs/types.js';
import { Errno, FsError } from '../../../util/errno.js';
import { FileType } from '../../../vfs/types.js';
import { xdrPad } from '../xdr/reader.js';
import type { Nfs3Call, Resolved } from './context.js';
import { Nfs3Error } from './status.js';
import { NFS3ERR_TOOSMALL } from './types.js';

/** The verifier every READDIR/READDIRPLUS reply carries; incoming ones are ignored. */
export const COOKIE_VERIFIER = Buffer.alloc(8);

/** Bytes of a present post_op_attr (bool + fattr3). */
export const POST_OP_ATTR_BYTES = 4 + 84;
/** dir_attributes + cookieverf + end-of-list bool + eof bool. */
export const DIRLIST_FIXED_BYTES = POST_OP_ATTR_BYTES + 8 + 4 + 4;

/** XDR bytes of a filename3 on the wire. */
export const nameBytes = (name: Buffer): number => 4 + name.length + xdrPad(name.length);

export interface Listing {
  entries: DirEntry[];
  eof: boolean;
}

export interface ListRequest {
  cookie: bigint;
  /** Largest resok body allowed, in bytes. */
  maxBytes: number;
  plus: boolean;
  /** Exact bytes one entry adds to the reply. */
  entryBytes(e: DirEntry): number;
}

/** Rough bytes per entry, to size vfs pages to about one reply. */
const TYPICAL_ENTRY_BYTES = { plain: 40, plus: 180 };

export async function listDirectory(call: Nfs3Call, dir: Resolved, req: ListRequest): Promise<Listing> {
  if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'readdir of a non-directory');
  if (req.maxBytes < DIRLIST_FIXED_BYTES) throw new Nfs3Error(NFS3ERR_TOOSMALL, `count ${req.maxBytes}`);
  const root: Ino | null = await call.exportRoot().catch(() => null);
  const perEntry = req.plus ? TYPICAL_ENTRY_BYTES.plus : TYPICAL_ENTRY_BYTES.plain;
  const batchSize = Math.max(16, Math.min(4096, Math.ceil(req.maxBytes / perEntry) + 1));
  const entries: DirEntry[] = [];
  let bytes = DIRLIST_FIXED_BYTES;
  let eof = true;
  for await (const raw of call.fs.readdir(call.cred, dir.ino, { after: req.cookie, plus: req.plus, batchSize })) {
    const e = dir.ino === root && raw.cookie === 2n && raw.name.equals(DOTDOT) ? { ...raw, ino: dir.ino, attr: dir.attr } : raw;
    const size = req.entryBytes(e);
    if (bytes + size > req.maxBytes) {
      eof = false;
      break;
    }
    bytes += size;
    entries.push(e);
  }
  if (entries.length === 0 && !eof) throw new Nfs3Error(NFS3ERR_TOOSMALL, `count ${req.maxBytes} holds no entry`);
  return { entries, eof };
}

const DOTDOT = Buffer.from('..');
