/**
 * RPC dispatch (RFC 5531 §9-§10): one server-owned table of programs keyed by (prog, vers), and
 * the function that turns one received call record into one reply: authenticate, find program,
 * version and procedure, decode arguments, run, encode. Unknown program -> PROG_UNAVAIL, unknown
 * version -> PROG_MISMATCH(low, high), unknown procedure -> PROC_UNAVAIL, XdrDecodeError ->
 * GARBAGE_ARGS, RpcAuthError -> AUTH_ERROR, any other error -> SYSTEM_ERR with a log line.
 * Transport-agnostic: it never touches a socket (connection.ts and server.ts do).
 */
import type { Logger } from '../../../observability/logger.js';
import { secondsSince, type OpObserver } from '../../../observability/ops.js';
import type { Credentials } from '../../../vfs/types.js';
import type { DuplicateRequestCache } from '../drc.js';
import { XdrDecodeError, XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { authenticate, RpcAuthError, type CallerAuth } from './auth-unix.js';
import {
  GARBAGE_ARGS, PROC_UNAVAIL, PROG_MISMATCH, PROG_UNAVAIL, SUCCESS, SYSTEM_ERR,
  encodeReply, parseCall, type CallHeader, type RpcReply,
} from './message.js';

/** The remote end of a call. */
export interface Peer {
  /** IP address as text; IPv4 peers on dual-stack sockets are given as plain IPv4. */
  address: string;
  /** Source port (privileged ports < 1024 matter for `secure` exports). */
  port: number;
}

/** What a procedure learns about its call. */
export interface RpcCallContext {
  /** Transaction id; the reply carries the same one. */
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** uid/gid/gids from AUTH_SYS, or the anonymous ids for AUTH_NONE (see `auth.flavor`). */
  cred: Credentials;
  /** Flavor and machinename, for export policies (squash AUTH_NONE, require AUTH_SYS). */
  auth: CallerAuth;
  peer: Peer;
  transport: 'tcp' | 'udp';
  /** Aborted when the connection closes (TCP) or the server shuts down. */
  signal: AbortSignal;
  /** Logger bound to the connection; add { xid, proc } for per-call lines. */
  log: Logger;
  /**
   * Present when the transport can say when a reply has left the process: registers `fn` to run
   * once this call's reply has been written to the socket (or will not be sent). A procedure may
   * put pooled buffers in its reply only with it, and gives them back from `fn`.
   */
  afterSent?: (fn: () => void) => void;
  /** Set by a procedure that answers with a failure status (e.g. NFS3ERR_NOENT): the error name metrics record. */
  failure?: string;
  /**
   * Set by a procedure whose reply says the call did not run and is to be sent again later
   * (NFS3ERR_JUKEBOX): a retransmission then runs it, instead of getting this reply from the
   * duplicate request cache.
   */
  retryLater?: boolean;
}

/** A typed procedure: decode args, run, encode the result. The shape procedure files export. */
export interface Procedure<A, R> {
  /** RFC name for logs, e.g. 'MNT', 'GETPORT'. */
  readonly name: string;
  /** True for non-idempotent procedures: their replies go through the duplicate request cache. */
  readonly nonIdempotent?: boolean;
  /** Decodes the arguments; throws XdrDecodeError on malformed input (answered GARBAGE_ARGS). */
  decodeArgs(r: XdrReader): A;
  /** Runs the call; must not touch the transport. Errors other than RpcAuthError become SYSTEM_ERR. */
  handle(args: A, ctx: RpcCallContext): Promise<R> | R;
  /** Encodes the result body that follows the SUCCESS accept_stat. */
  encodeResult(w: XdrWriter, result: R): void;
}

/** A procedure with its types erased, as the table stores it. */
export interface RpcProcedure {
  /** RFC name for logs. */
  readonly name: string;
  /** Replies go through the duplicate request cache. */
  readonly nonIdempotent: boolean;
  /** Keeps no view of its argument bytes once call() settles, nor puts one in its reply (WRITE): the record may be reused. */
  readonly releasesArgs?: boolean;
  /** Decodes, runs and returns the encoded result body (buffers sent in order, not copied). */
  call(args: XdrReader, ctx: RpcCallContext): Promise<Buffer[]>;
}

export function defineProcedure<A, R>(p: Procedure<A, R>): RpcProcedure {
  return {
    name: p.name,
    nonIdempotent: p.nonIdempotent ?? false,
    async call(r, ctx) {
      const args = p.decodeArgs(r);
      const result = await p.handle(args, ctx);
      const w = new XdrWriter();
      p.encodeResult(w, result);
      return [w.view()];
    },
  };
}

/** One version of one program: a procedure table indexed by procedure number. */
export interface RpcProgram {
  /** Program number, e.g. 100005 for MOUNT. */
  readonly prog: number;
  /** Version served by this table; other versions of `prog` are separate tables. */
  readonly vers: number;
  /** For logs, e.g. 'mount3'. */
  readonly name: string;
  /** By procedure number; a missing number is answered PROC_UNAVAIL. */
  readonly procedures: ReadonlyMap<number, RpcProcedure>;
}

/** What the transport tells the dispatcher about a received record. */
export interface TransportInfo {
  peer: Peer;
  transport: 'tcp' | 'udp';
  /** Aborts when the reply can no longer be delivered (connection closed, server closing). */
  signal: AbortSignal;
  /** Logger bound to the connection or datagram peer. */
  log: Logger;
  /** Called once a call of a `releasesArgs` procedure (outside the DRC) has settled: nothing refers to the record any more. */
  recordDone?: () => void;
  /** See RpcCallContext.afterSent. */
  afterSent?: (fn: () => void) => void;
}

/** Signals a DRC execution abandoned because its connection closed (not a reply). */
class Abandoned extends Error {}

export class RpcDispatcher {
  readonly #programs = new Map<number, Map<number, RpcProgram>>();
  readonly #drc: DuplicateRequestCache | null;
  readonly #observer: OpObserver | undefined;

  /** `observer` gets one record per dispatched call: procedure name, latency and failure name. */
  constructor(opts: { drc?: DuplicateRequestCache | null; observer?: OpObserver | undefined } = {}) {
    this.#drc = opts.drc ?? null;
    this.#observer = opts.observer;
  }

  /** Adds a program version; a second registration of the same (prog, vers) is an error. */
  register(program: RpcProgram): void {
    let versions = this.#programs.get(program.prog);
    if (versions === undefined) {
      versions = new Map();
      this.#programs.set(program.prog, versions);
    }
    if (versions.has(program.vers)) throw new Error(`program ${program.prog} version ${program.vers} is already registered`);
    versions.set(program.vers, program);
  }

  /** Every registered (prog, vers), in registration order. */
  programs(): RpcProgram[] {
    return [...this.#programs.values()].flatMap((v) => [...v.values()]);
  }

  /**
   * Answers one call record. Resolves to the reply (header and body buffers, no record mark) or
   * to null when nothing may be sent: an unparseable record, or a call whose transport closed
   * while it ran. Never rejects.
   */
  async dispatch(record: Buffer, t: TransportInfo): Promise<Buffer[] | null> {
    const parsed = parseCall(record);
    if (parsed.kind === 'drop') {
      t.log.debug({ reason: parsed.reason }, 'rpc record dropped');
      return null;
    }
    if (parsed.kind === 'reject') {
      t.log.debug({ xid: parsed.xid, reason: parsed.reason }, 'rpc call rejected');
      return encodeReply(parsed.reply);
    }
    const h = parsed.header;
    let auth: CallerAuth;
    try {
      auth = authenticate(h.cred, h.verf);
    } catch (err) {
      if (!(err instanceof RpcAuthError)) throw err;
      t.log.debug({ xid: h.xid, prog: h.prog, authStat: err.authStat, reason: err.message }, 'rpc auth rejected');
      return encodeReply({ xid: h.xid, stat: 'auth-error', authStat: err.authStat });
    }
    const versions = this.#programs.get(h.prog);
    if (versions === undefined) return encodeReply({ xid: h.xid, stat: PROG_UNAVAIL });
    const program = versions.get(h.vers);
    if (program === undefined) {
      const vs = [...versions.keys()];
      return encodeReply({ xid: h.xid, stat: PROG_MISMATCH, low: Math.min(...vs), high: Math.max(...vs) });
    }
    const procedure = program.procedures.get(h.proc);
    if (procedure === undefined) return encodeReply({ xid: h.xid, stat: PROC_UNAVAIL });

    const ctx: RpcCallContext = {
      xid: h.xid, prog: h.prog, vers: h.vers, proc: h.proc, cred: auth.cred, auth,
      peer: t.peer, transport: t.transport, signal: t.signal, log: t.log,
    };
    if (t.afterSent !== undefined) ctx.afterSent = t.afterSent;
    if (this.#observer === undefined) return this.#run(program, procedure, h, parsed.args, ctx, t);
    const started = process.hrtime.bigint();
    const reply = await this.#run(program, procedure, h, parsed.args, ctx, t);
    this.#observer.record(procedure.name, secondsSince(started), reply === null ? 'NO_REPLY' : ctx.failure);
    return reply;
  }

  /** Runs a call found in the table, through the duplicate request cache when it is non-idempotent. */
  async #run(program: RpcProgram, procedure: RpcProcedure, h: CallHeader, args: Buffer, ctx: RpcCallContext, t: TransportInfo): Promise<Buffer[] | null> {
    if (this.#drc === null || !procedure.nonIdempotent) {
      try {
        const r = await this.#execute(program, procedure, h, args, ctx);
        return r === null ? null : r.reply;
      } finally {
        if (procedure.releasesArgs === true) t.recordDone?.();
      }
    }
    const request = { address: t.peer.address, port: t.peer.port, xid: h.xid, prog: h.prog, vers: h.vers, proc: h.proc, args: args };
    try {
      return await this.#drc.run(request, async () => {
        const r = await this.#execute(program, procedure, h, args, ctx);
        if (r === null) throw new Abandoned();
        return r;
      });
    } catch (err) {
      if (err instanceof Abandoned) return null;
      throw err;
    }
  }

  async #execute(program: RpcProgram, procedure: RpcProcedure, h: CallHeader, args: Buffer, ctx: RpcCallContext): Promise<{ reply: Buffer[]; cacheable: boolean } | null> {
    let reply: RpcReply;
    try {
      const body = await procedure.call(new XdrReader(args), ctx);
      return { reply: encodeReply({ xid: h.xid, stat: SUCCESS, body }), cacheable: ctx.retryLater !== true };
    } catch (err) {
      if (ctx.signal.aborted) return null;
      const where = { xid: h.xid, prog: program.name, vers: h.vers, proc: procedure.name };
      if (err instanceof XdrDecodeError) {
        ctx.log.debug({ ...where, reason: err.message }, 'rpc garbage args');
        ctx.failure = 'GARBAGE_ARGS';
        reply = { xid: h.xid, stat: GARBAGE_ARGS };
      } else if (err instanceof RpcAuthError) {
        ctx.log.debug({ ...where, authStat: err.authStat, reason: err.message }, 'rpc auth rejected by procedure');
        ctx.failure = 'AUTH_ERROR';
        reply = { xid: h.xid, stat: 'auth-error', authStat: err.authStat };
      } else {
        ctx.log.error({ ...where, err }, 'rpc procedure failed');
        ctx.failure = 'SYSTEM_ERR';
        reply = { xid: h.xid, stat: SYSTEM_ERR };
      }
    }
    return { reply: encodeReply(reply), cacheable: reply.stat !== SYSTEM_ERR };
  }
}
