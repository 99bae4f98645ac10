/**
 * NFSPROC3_WRITE (RFC 1813 §3.3.7): UNSTABLE writes go into vfs write buffers and are answered
 * at once, with post-operation attributes derived from the pre-operation ones (no second
 * getattr); DATA_SYNC and FILE_SYNC writes call fsync before the reply and answer FILE_SYNC with
 * the attributes the sync resolves with. The
 * verifier is read before the data is handed to vfs, so a loss noticed later (verifier changed)
 * makes the client's COMMIT see a different value and resend. A failed sync changes it too.
 */
import { Errno, FsError } from '../../../../util/errno.js';
import { type Attr, FileType } from '../../../../vfs/types.js';
import type { Nfs3Context } from '../context.js';
import { W_OK } from '../fs.js';
import { defineNfs3Procedure } from '../procedure.js';
import { syncFailure } from '../status.js';
import { FILE_SYNC, UNSTABLE, DATA_SYNC, decodeNfsFh3, encodeWccData, type WccData } from '../types.js';

interface WriteArgs {
  file: Buffer;
  offset: bigint;
  count: number;
  stable: number;
  data: Buffer;
}

interface WriteOk {
  wcc: WccData;
  count: number;
  committed: number;
  verf: Buffer;
}

const STABLE_HOW = new Set([UNSTABLE, DATA_SYNC, FILE_SYNC]);
/** Decode cap for the data: the RPC record limit bounds it anyway; wtmax is checked in handle. */
const MAX_DECODED_DATA = 0x7fffffff;

export const writeProc = (ctx: Nfs3Context) => defineNfs3Procedure<WriteArgs, WriteOk>(ctx, {
  name: 'WRITE',
  failure: ['wcc'],
  // vfs.write has copied the data into its write buffers when it resolves
  releasesArgs: true,
  decodeArgs: (r) => ({ file: decodeNfsFh3(r), offset: r.u64(), count: r.u32(), stable: r.enum(STABLE_HOW), data: r.opaque(MAX_DECODED_DATA) }),
  async handle(args, call) {
    // the write handle is opened with recent attributes, or alongside resolve's read (resolveForData)
    const [file] = await call.resolveForData(args.file, 0, (ino) => {
      call.checkWritable();
      return call.fs.warm(ino, W_OK);
    });
    if (file.attr.type === FileType.Directory) throw new FsError(Errno.EISDIR, 'write to a directory');
    if (file.attr.type !== FileType.File) throw new FsError(Errno.EINVAL, 'write to a special file');
    if (args.count > args.data.length) throw new FsError(Errno.EINVAL, `count ${args.count} > ${args.data.length} data bytes`);
    if (args.count > ctx.limits.maxWriteBytes) throw new FsError(Errno.EINVAL, `count ${args.count} > wtmax`);
    if (args.offset + BigInt(args.count) > ctx.limits.maxFileBytes) throw new FsError(Errno.EFBIG, `write end ${args.offset + BigInt(args.count)}`);
    await call.checkDataAccess(file, W_OK);
    const verf = ctx.verifier.value;
    if (args.count > 0) await call.fs.write(call.cred, file.ino, Number(args.offset), args.data.subarray(0, args.count));
    if (args.stable !== UNSTABLE) {
      let synced: Attr;
      try {
        synced = await call.fs.fsync(file.ino);
      } catch (err) {
        ctx.verifier.change();
        call.rpc.log.warn({ ino: file.ino, err }, 'sync write failed; write verifier changed');
        throw syncFailure(err);
      }
      return { wcc: call.wccWith(0, synced), count: args.count, committed: FILE_SYNC, verf };
    }
    // buffered: meta still has the pre-operation attributes, and vfs shows the length grown by
    // what is buffered, so the post-operation attributes are known without another getattr
    const end = Number(args.offset) + args.count;
    const after = end > file.attr.length ? { ...file.attr, length: end } : file.attr;
    return { wcc: call.wccWith(0, after), count: args.count, committed: UNSTABLE, verf };
  },
  encodeOk(w, res) {
    encodeWccData(w, res.wcc);
    w.u32(res.count).enum(res.committed).opaqueFixed(res.verf, 8);
  },
});
