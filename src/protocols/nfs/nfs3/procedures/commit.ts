/**
 * NFSPROC3_COMMIT (RFC 1813 §3.3.21): makes the file's buffered writes durable (vfs fsync: blocks
 * in the object store and slices in the metadata engine) before answering; the whole file is
 * synced whatever the range. Returns the verifier as it is after the sync: if buffered data was
 * lost since the client's WRITEs the value differs from theirs and the client resends. A failed
 * sync changes the verifier and answers the error. The post-operation attributes are those the
 * sync resolves with (no second getattr); the pre-operation ones are read while the sync starts.
 */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { syncFailure } from '../status.js';
import { decodeNfsFh3, encodeWccData, type WccData } from '../types.js';

interface CommitArgs {
  file: Buffer;
  offset: bigint;
  count: number;
}

interface CommitOk {
  wcc: WccData;
  verf: Buffer;
}

export const commitProc = (ctx: Nfs3Context) => defineNfs3Procedure<CommitArgs, CommitOk>(ctx, {
  name: 'COMMIT',
  failure: ['wcc'],
  decodeArgs: (r) => ({ file: decodeNfsFh3(r), offset: r.u64(), count: r.u32() }),
  async handle(args, call) {
    // the sync runs alongside resolve's attribute read (fsync of a non-file is a getattr)
    const [, after] = await call.resolveAlong(args.file, 0, async (ino) => {
      try {
        return await call.fs.fsync(ino);
      } catch (err) {
        ctx.verifier.change();
        call.rpc.log.warn({ ino, err }, 'commit failed; write verifier changed');
        throw syncFailure(err);
      }
    });
    return { wcc: call.wccWith(0, after), verf: ctx.verifier.value };
  },
  encodeOk(w, res) {
    encodeWccData(w, res.wcc);
    w.opaqueFixed(res.verf, 8);
  },
});
