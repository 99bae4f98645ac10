/**
 * NFSPROC3_FSINFO (RFC 1813 §3.3.19): the sizes the Linux client sets rsize/wsize/dtsize from at
 * mount (research/nfs.md §3): rtmax = rtpref = wtmax = wtpref = 1 MiB, dtpref 64 KiB, nanosecond
 * times, hard links and symlinks, settable times.
 */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import {
  FSF3_CANSETTIME, FSF3_HOMOGENEOUS, FSF3_LINK, FSF3_SYMLINK, decodeNfsFh3, encodeNfstime3, encodePostOpAttr, type Fattr3,
} from '../types.js';

const PROPERTIES = FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME;
/** rtmult/wtmult: the block size reads and writes are best aligned to. */
const IO_MULTIPLE = 4096;

export const fsinfoProc = (ctx: Nfs3Context) => defineNfs3Procedure<Buffer, Fattr3>(ctx, {
  name: 'FSINFO',
  failure: ['attr'],
  decodeArgs: decodeNfsFh3,
  async handle(fh, call) {
    const root = await call.resolve(fh, 0);
    return call.fattr(root.attr, root.ino);
  },
  encodeOk(w, attr) {
    const l = ctx.limits;
    encodePostOpAttr(w, attr);
    w.u32(l.maxReadBytes).u32(l.maxReadBytes).u32(IO_MULTIPLE);
    w.u32(l.maxWriteBytes).u32(l.maxWriteBytes).u32(IO_MULTIPLE);
    w.u32(l.preferredReaddirBytes);
    w.u64(l.maxFileBytes);
    encodeNfstime3(w, { seconds: 0, nseconds: 1 });
    w.u32(PROPERTIES);
  },
});
