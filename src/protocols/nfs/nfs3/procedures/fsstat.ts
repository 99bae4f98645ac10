/** NFSPROC3_FSSTAT (RFC 1813 §3.3.18): volume space and inode counts from vfs statfs. */
import type { StatFs } from '../../../../vfs/types.js';
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeNfsFh3, encodePostOpAttr, type Fattr3 } from '../types.js';

interface FsstatOk {
  attr: Fattr3;
  st: StatFs;
}

const u64 = (n: number): bigint => BigInt(Math.max(0, Math.trunc(n)));

export const fsstatProc = (ctx: Nfs3Context) => defineNfs3Procedure<Buffer, FsstatOk>(ctx, {
  name: 'FSSTAT',
  failure: ['attr'],
  decodeArgs: decodeNfsFh3,
  async handle(fh, call) {
    const root = await call.resolve(fh, 0);
    const st = await call.fs.statfs(call.cred, root.ino);
    return { attr: call.fattr(root.attr, root.ino), st };
  },
  encodeOk(w, { attr, st }) {
    encodePostOpAttr(w, attr);
    w.u64(u64(st.totalBytes)).u64(u64(st.availBytes)).u64(u64(st.availBytes));
    w.u64(u64(st.totalInodes)).u64(u64(st.availInodes)).u64(u64(st.availInodes));
    // invarsec: the numbers change at any time.
    w.u32(0);
  },
});
