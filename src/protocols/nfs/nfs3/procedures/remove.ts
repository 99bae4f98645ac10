/** NFSPROC3_REMOVE (RFC 1813 §3.3.12): unlinks a non-directory; answers the directory's wcc_data. */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, encodeWccData, type Diropargs3, type WccData } from '../types.js';

export const removeProc = (ctx: Nfs3Context) => defineNfs3Procedure<Diropargs3, WccData>(ctx, {
  name: 'REMOVE',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs: decodeDiropargs3,
  async handle(args, call) {
    const [, removed] = await call.resolveAlong(args.dir, 0, (ino) => {
      call.checkWritable();
      return call.fs.unlink(call.cred, ino, args.name);
    });
    return call.wccAfter(0, removed.parentAttr);
  },
  encodeOk: encodeWccData,
});
