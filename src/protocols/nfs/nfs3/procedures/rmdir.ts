/** NFSPROC3_RMDIR (RFC 1813 §3.3.13): removes an empty directory; answers the parent's wcc_data. */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, encodeWccData, type Diropargs3, type WccData } from '../types.js';

export const rmdirProc = (ctx: Nfs3Context) => defineNfs3Procedure<Diropargs3, WccData>(ctx, {
  name: 'RMDIR',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs: decodeDiropargs3,
  async handle(args, call) {
    const [, removed] = await call.resolveAlong(args.dir, 0, (ino) => {
      call.checkWritable();
      return call.fs.rmdir(call.cred, ino, args.name);
    });
    return call.wccAfter(0, removed.parentAttr);
  },
  encodeOk: encodeWccData,
});
