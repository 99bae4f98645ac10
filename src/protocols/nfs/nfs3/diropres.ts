/**
 * Shared by the procedures that make a new name (CREATE, MKDIR, SYMLINK, MKNOD; RFC 1813
 * §3.3.8-§3.3.11): their resok body (post_op_fh3, post_op_attr, wcc_data of the directory) and
 * the step that applies the sattr3 fields the create call itself did not take (owner, size, times).
 */
import type { Attr, Ino, SetAttrRequest } from '../../../vfs/types.js';
import type { XdrWriter } from '../xdr/writer.js';
import { isEmptySetAttr } from './attr.js';
import type { Nfs3Call } from './context.js';
import { encodePostOpAttr, encodePostOpFh3, encodeWccData, type Fattr3, type WccData } from './types.js';

export interface DiropOk {
  /** Handle of the new object. */
  fh: Buffer;
  /** Its attributes. */
  attr: Fattr3;
  /** The directory's wcc_data. */
  dirWcc: WccData;
}

export function encodeDiropOk(w: XdrWriter, res: DiropOk): void {
  encodePostOpFh3(w, res.fh);
  encodePostOpAttr(w, res.attr);
  encodeWccData(w, res.dirWcc);
}

/** Applies `req` without `mode` (the create call already set it); returns the final attributes. */
export async function applyRemainingAttrs(call: Nfs3Call, ino: Ino, attr: Attr, req: SetAttrRequest): Promise<Attr> {
  const rest: SetAttrRequest = { ...req };
  delete rest.mode;
  if (rest.uid === attr.uid) delete rest.uid;
  if (rest.gid === attr.gid) delete rest.gid;
  if (rest.size === attr.length) delete rest.size;
  return isEmptySetAttr(rest) ? attr : call.fs.setattr(call.cred, ino, rest);
}

/**
 * The resok body for a new object `ino` in the directory of failure slot 0; `parentAttr`: the
 * directory's attributes as the creating transaction reported them (read again when absent).
 */
export async function diropOk(call: Nfs3Call, ino: Ino, attr: Attr, parentAttr?: Attr): Promise<DiropOk> {
  return { fh: call.handleOf(ino), attr: call.fattr(attr, ino), dirWcc: await call.wccAfter(0, parentAttr) };
}
