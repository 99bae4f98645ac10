/**
 * NFSPROC3_PATHCONF (RFC 1813 §3.3.20): 255-byte names, long names refused (no_trunc), chown
 * restricted to root, case-sensitive and case-preserving; linkmax is the nlink a JuiceFS inode
 * can hold (32-bit counter).
 */
import { MAX_NAME_LENGTH_BYTES } from '../fs.js';
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeNfsFh3, encodePostOpAttr, type Fattr3 } from '../types.js';

const LINK_MAX = 0xffffffff;

export const pathconfProc = (ctx: Nfs3Context) => defineNfs3Procedure<Buffer, Fattr3>(ctx, {
  name: 'PATHCONF',
  failure: ['attr'],
  decodeArgs: decodeNfsFh3,
  async handle(fh, call) {
    const obj = await call.resolve(fh, 0);
    return call.fattr(obj.attr, obj.ino);
  },
  encodeOk(w, attr) {
    encodePostOpAttr(w, attr);
    w.u32(LINK_MAX).u32(MAX_NAME_LENGTH_BYTES);
    w.bool(true).bool(true).bool(false).bool(true);
  },
});
