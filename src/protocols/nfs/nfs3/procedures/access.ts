/**
 * NFSPROC3_ACCESS (RFC 1813 §3.3.4): which of the asked ACCESS3_* rights the caller has, from the
 * vfs permission check (read, write, execute) per right; a read-only export never grants
 * MODIFY, EXTEND or DELETE. DELETE is meaningful for directories only, EXECUTE for non-directories.
 */
import { FileType } from '../../../../vfs/types.js';
import { Errno, isFsError } from '../../../../util/errno.js';
import type { Nfs3Call, Nfs3Context, Resolved } from '../context.js';
import { R_OK, W_OK, X_OK } from '../fs.js';
import { defineNfs3Procedure } from '../procedure.js';
import {
  ACCESS3_DELETE, ACCESS3_EXECUTE, ACCESS3_EXTEND, ACCESS3_LOOKUP, ACCESS3_MODIFY, ACCESS3_READ,
  decodeNfsFh3, encodePostOpAttr, type Fattr3,
} from '../types.js';

interface AccessArgs {
  object: Buffer;
  access: number;
}

interface AccessOk {
  attr: Fattr3;
  access: number;
}

async function granted(call: Nfs3Call, obj: Resolved, mask: number): Promise<boolean> {
  try {
    await call.fs.access(call.cred, obj.ino, mask, obj.attr);
    return true;
  } catch (err) {
    if (isFsError(err, Errno.EACCES) || isFsError(err, Errno.EPERM)) return false;
    throw err;
  }
}

export const accessProc = (ctx: Nfs3Context) => defineNfs3Procedure<AccessArgs, AccessOk>(ctx, {
  name: 'ACCESS',
  failure: ['attr'],
  decodeArgs: (r) => ({ object: decodeNfsFh3(r), access: r.u32() }),
  async handle(args, call) {
    const obj = await call.resolve(args.object, 0);
    const isDir = obj.attr.type === FileType.Directory;
    const want = args.access;
    const writeBits = ACCESS3_MODIFY | ACCESS3_EXTEND | (isDir ? ACCESS3_DELETE : 0);
    const execBit = isDir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE;
    const [r, wr, x] = await Promise.all([
      (want & ACCESS3_READ) !== 0 && granted(call, obj, R_OK),
      (want & writeBits) !== 0 && !call.export.readOnly && granted(call, obj, W_OK),
      (want & execBit) !== 0 && granted(call, obj, X_OK),
    ]);
    const access = (r ? ACCESS3_READ : 0) | (wr ? writeBits : 0) | (x ? execBit : 0);
    return { attr: call.fattr(obj.attr, obj.ino), access: access & want };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.attr);
    w.u32(res.access);
  },
});
