/**
 * NFSPROC3_SETATTR (RFC 1813 §3.3.2): chmod/chown/truncate/utimes with an optional guard: when
 * the object's ctime is no longer the one the client gives, nothing changes and the answer is
 * NFS3ERR_NOT_SYNC. Through the DRC: a retransmitted guarded SETATTR must not fail its own guard.
 */
import { isEmptySetAttr, sameNfstime, setAttrRequestOf, wccAttrOfAttr } from '../attr.js';
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { Nfs3Error } from '../status.js';
import {
  NFS3ERR_NOT_SYNC, decodeNfsFh3, decodeSattr3, decodeSattrguard3, encodeWccData,
  type Nfstime3, type Sattr3, type WccData,
} from '../types.js';

interface SetattrArgs {
  object: Buffer;
  attrs: Sattr3;
  guard: Nfstime3 | null;
}

export const setattrProc = (ctx: Nfs3Context) => defineNfs3Procedure<SetattrArgs, WccData>(ctx, {
  name: 'SETATTR',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs: (r) => ({ object: decodeNfsFh3(r), attrs: decodeSattr3(r), guard: decodeSattrguard3(r) }),
  async handle(args, call) {
    const req = setAttrRequestOf(args.attrs);
    const { atime, mtime, ...rest } = req;
    const twoSteps = rest.size !== undefined && (atime !== undefined || mtime !== undefined);
    if (args.guard === null && !twoSteps) {
      // nothing to check first: the change goes out with resolve's attribute read (one round trip less)
      const [obj, after] = await call.resolveAlong(args.object, 0, (ino) => {
        call.checkWritable();
        return isEmptySetAttr(req) ? Promise.resolve(null) : call.fs.setattr(call.cred, ino, req);
      });
      return call.wccWith(0, after ?? obj.attr);
    }
    const obj = await call.resolve(args.object, 0);
    call.checkWritable();
    if (args.guard !== null && !sameNfstime(args.guard, wccAttrOfAttr(obj.attr).ctime)) {
      throw new Nfs3Error(NFS3ERR_NOT_SYNC, 'guard ctime differs');
    }
    if (isEmptySetAttr(req)) return call.wccWith(0, obj.attr);
    // A truncate stamps mtime/ctime with "now"; times given with it must win, so they go second.
    if (!twoSteps) return call.wccWith(0, await call.fs.setattr(call.cred, obj.ino, req));
    await call.fs.setattr(call.cred, obj.ino, rest);
    const times = { ...(atime === undefined ? {} : { atime }), ...(mtime === undefined ? {} : { mtime }) };
    return call.wccWith(0, await call.fs.setattr(call.cred, obj.ino, times));
  },
  encodeOk: encodeWccData,
});
