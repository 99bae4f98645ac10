/**
 * NFSPROC3_RENAME (RFC 1813 §3.3.14): one atomic vfs rename, replacing a compatible target;
 * wcc_data for both directories. Handles of two exports are NFS3ERR_XDEV.
 */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, encodeWccData, type Diropargs3, type WccData } from '../types.js';

interface RenameArgs {
  from: Diropargs3;
  to: Diropargs3;
}

interface RenameOk {
  fromWcc: WccData;
  toWcc: WccData;
}

export const renameProc = (ctx: Nfs3Context) => defineNfs3Procedure<RenameArgs, RenameOk>(ctx, {
  name: 'RENAME',
  nonIdempotent: true,
  failure: ['wcc', 'wcc'],
  decodeArgs: (r) => ({ from: decodeDiropargs3(r), to: decodeDiropargs3(r) }),
  async handle({ from, to }, call) {
    const src = await call.resolve(from.dir, 0);
    const dst = await call.resolve(to.dir, 1);
    call.checkWritable();
    await call.fs.rename(call.cred, src.ino, from.name, dst.ino, to.name);
    const [fromWcc, toWcc] = await Promise.all([call.wcc(0), call.wcc(1)]);
    return { fromWcc, toWcc };
  },
  encodeOk(w, res) {
    encodeWccData(w, res.fromWcc);
    encodeWccData(w, res.toWcc);
  },
});
