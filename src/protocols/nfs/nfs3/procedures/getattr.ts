/** NFSPROC3_GETATTR (RFC 1813 §3.3.1): the fattr3 of an object; a failure is the status alone. */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeNfsFh3, encodeFattr3, type Fattr3 } from '../types.js';

export const getattrProc = (ctx: Nfs3Context) => defineNfs3Procedure<Buffer, Fattr3>(ctx, {
  name: 'GETATTR',
  failure: [],
  decodeArgs: decodeNfsFh3,
  async handle(fh, call) {
    const obj = await call.resolve(fh);
    return call.fattr(obj.attr, obj.ino);
  },
  encodeOk: encodeFattr3,
});
