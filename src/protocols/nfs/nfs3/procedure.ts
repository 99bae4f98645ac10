/**
 * How an NFSv3 procedure is written (STYLE.md §3): decode args, handle with an Nfs3Call, encode
 * the resok body; a failure is a thrown FsError or Nfs3Error, and the procedure declares once what
 * its failure body carries (RFC 1813 §3.3: NFSv3 failures still return post_op_attr or wcc_data).
 * This wrapper writes status + that body, so handlers contain no error encoding and no status
 * table. XDR decode errors propagate to the RPC dispatcher (GARBAGE_ARGS).
 */
import type { RpcCallContext, RpcProcedure } from '../rpc/dispatcher.js';
import type { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { Nfs3Call, type Nfs3Context } from './context.js';
import { statusName, statusOf } from './status.js';
import { NFS3_OK, NFS3ERR_JUKEBOX, NFS3ERR_SERVERFAULT, NO_WCC, encodePostOpAttr, encodeWccData } from './types.js';

/**
 * One piece of a failure body, in wire order: 'attr' is the post_op_attr of the object in that
 * slot, 'wcc' the wcc_data of the object in that slot (pre-op attributes from resolve()).
 */
export type FailureSlot = 'attr' | 'wcc';

export interface Nfs3ProcedureSpec<A, R> {
  /** RFC name, e.g. 'READDIRPLUS'. */
  readonly name: string;
  /** Goes through the duplicate request cache (CREATE, REMOVE, RENAME...). */
  readonly nonIdempotent?: boolean;
  /** Keeps no view of the argument bytes once handled, in state or in the reply (RpcProcedure.releasesArgs). */
  readonly releasesArgs?: boolean;
  /** The failure body, slot by slot; [] for procedures whose failure is the status alone. */
  readonly failure: readonly FailureSlot[];
  /** Decodes the arguments; XdrDecodeError becomes GARBAGE_ARGS in the dispatcher. */
  decodeArgs(r: XdrReader): A;
  /** Runs the call; throws FsError / Nfs3Error for an NFS failure status. */
  handle(args: A, call: Nfs3Call): Promise<R>;
  /**
   * Encodes the resok body after NFS3_OK. May return buffers to send after the writer's bytes
   * (READ data, 4-byte aligned in total) so large payloads are not copied.
   */
  encodeOk(w: XdrWriter, res: R): Buffer[] | void;
}

export function defineNfs3Procedure<A, R>(ctx: Nfs3Context, spec: Nfs3ProcedureSpec<A, R>): RpcProcedure {
  return {
    name: spec.name,
    nonIdempotent: spec.nonIdempotent ?? false,
    releasesArgs: spec.releasesArgs ?? false,
    async call(r: XdrReader, rpc: RpcCallContext): Promise<Buffer[]> {
      const args = spec.decodeArgs(r);
      const call = new Nfs3Call(ctx, rpc);
      const w = new XdrWriter(512);
      let res: R;
      try {
        res = await spec.handle(args, call);
      } catch (err) {
        const status = statusOf(err);
        rpc.failure = statusName(status);
        if (status === NFS3ERR_SERVERFAULT) rpc.log.error({ xid: rpc.xid, proc: spec.name, err }, 'nfs procedure failed');
        else rpc.log.debug({ xid: rpc.xid, proc: spec.name, status: statusName(status), reason: err instanceof Error ? err.message : String(err) }, 'nfs error reply');
        w.u32(status);
        // JUKEBOX: the metadata engine is out of reach, so no attributes either (reading them
        // would wait as long again); the client sends the call again later
        const retryLater = status === NFS3ERR_JUKEBOX;
        if (retryLater) rpc.retryLater = true;
        for (let i = 0; i < spec.failure.length; i++) {
          if (spec.failure[i] === 'attr') encodePostOpAttr(w, retryLater ? null : await call.slotAttr(i));
          else encodeWccData(w, retryLater ? NO_WCC : await call.wcc(i));
        }
        return [w.view()];
      }
      w.u32(NFS3_OK);
      const tail = spec.encodeOk(w, res);
      return tail === undefined ? [w.view()] : [w.view(), ...tail];
    },
  };
}
