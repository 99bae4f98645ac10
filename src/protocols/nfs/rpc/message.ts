/**
 * ONC RPC v2 messages (RFC 5531 §9): the call header a server decodes, and the accepted and
 * denied replies it encodes, plus the reverse (encode calls, decode replies) for our own clients.
 * Pure codec over XdrReader/XdrWriter, no I/O. It does not decide anything (which program, which
 * credentials are acceptable): that is the dispatcher's job.
 */
import { XdrDecodeError, XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';

export const RPC_VERSION = 2;

export const MSG_CALL = 0;
export const MSG_REPLY = 1;

export const MSG_ACCEPTED = 0;
export const MSG_DENIED = 1;

/** accept_stat (RFC 5531 §9). */
export const SUCCESS = 0;
export const PROG_UNAVAIL = 1;
export const PROG_MISMATCH = 2;
export const PROC_UNAVAIL = 3;
export const GARBAGE_ARGS = 4;
export const SYSTEM_ERR = 5;

/** reject_stat. */
export const RPC_MISMATCH = 0;
export const AUTH_ERROR = 1;

/** auth_stat. */
export const AUTH_OK = 0;
export const AUTH_BADCRED = 1;
export const AUTH_REJECTEDCRED = 2;
export const AUTH_BADVERF = 3;
export const AUTH_REJECTEDVERF = 4;
export const AUTH_TOOWEAK = 5;
export const AUTH_INVALIDRESP = 6;
export const AUTH_FAILED = 7;

/** auth_flavor (RFC 5531 §8.2, Appendix A). */
export const AUTH_NONE = 0;
export const AUTH_SYS = 1;
export const AUTH_SHORT = 2;
export const AUTH_DH = 3;
export const RPCSEC_GSS = 6;

/** Maximum body of an opaque_auth (RFC 5531 §8.2). */
export const MAX_AUTH_BYTES = 400;

export const ACCEPT_STAT_NAMES: Readonly<Record<number, string>> = {
  [SUCCESS]: 'SUCCESS', [PROG_UNAVAIL]: 'PROG_UNAVAIL', [PROG_MISMATCH]: 'PROG_MISMATCH',
  [PROC_UNAVAIL]: 'PROC_UNAVAIL', [GARBAGE_ARGS]: 'GARBAGE_ARGS', [SYSTEM_ERR]: 'SYSTEM_ERR',
};

export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

export const NULL_AUTH: OpaqueAuth = Object.freeze({ flavor: AUTH_NONE, body: Buffer.alloc(0) });

export interface CallHeader {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
}

/** What a server can make of one received record. */
export type ParsedCall =
  /** Not answerable (too short for an xid, or a REPLY sent to us): drop silently. */
  | { kind: 'drop'; reason: string }
  /** xid known, but the header is unusable: answer with this reply. */
  | { kind: 'reject'; xid: number; reply: RpcReply; reason: string }
  /** A well-formed call; `args` are the undecoded argument bytes (a view of the record). */
  | { kind: 'call'; header: CallHeader; args: Buffer };

export function decodeOpaqueAuth(r: XdrReader): OpaqueAuth {
  const flavor = r.enum<number>();
  const body = r.opaque(MAX_AUTH_BYTES);
  return { flavor, body };
}

export function encodeOpaqueAuth(w: XdrWriter, a: OpaqueAuth): void {
  w.enum(a.flavor).opaque(a.body, MAX_AUTH_BYTES);
}

/** Splits a received record into call header and argument bytes (RFC 5531 §9 call_body). */
export function parseCall(record: Buffer): ParsedCall {
  if (record.length < 8) return { kind: 'drop', reason: `record of ${record.length} bytes has no call header` };
  const r = new XdrReader(record);
  const xid = r.u32();
  const mtype = r.u32();
  if (mtype !== MSG_CALL) return { kind: 'drop', reason: `message type ${mtype} is not a call` };
  try {
    const rpcvers = r.u32();
    if (rpcvers !== RPC_VERSION) {
      return { kind: 'reject', xid, reason: `rpc version ${rpcvers}`, reply: { xid, stat: 'rpc-mismatch', low: RPC_VERSION, high: RPC_VERSION } };
    }
    const prog = r.u32();
    const vers = r.u32();
    const proc = r.u32();
    let cred: OpaqueAuth;
    try {
      cred = decodeOpaqueAuth(r);
    } catch (err) {
      if (!(err instanceof XdrDecodeError)) throw err;
      return { kind: 'reject', xid, reason: `credential: ${err.message}`, reply: { xid, stat: 'auth-error', authStat: AUTH_BADCRED } };
    }
    const verf = decodeOpaqueAuth(r);
    return { kind: 'call', header: { xid, rpcvers, prog, vers, proc, cred, verf }, args: r.rest() };
  } catch (err) {
    if (!(err instanceof XdrDecodeError)) throw err;
    return { kind: 'reject', xid, reason: `call header: ${err.message}`, reply: { xid, stat: GARBAGE_ARGS } };
  }
}

/** Encodes a call message (header + already encoded args), without a record mark. */
export function encodeCall(h: Omit<CallHeader, 'rpcvers'> & { rpcvers?: number }, args: Uint8Array = Buffer.alloc(0)): Buffer {
  const w = new XdrWriter(64 + args.length);
  w.u32(h.xid).u32(MSG_CALL).u32(h.rpcvers ?? RPC_VERSION).u32(h.prog).u32(h.vers).u32(h.proc);
  encodeOpaqueAuth(w, h.cred);
  encodeOpaqueAuth(w, h.verf);
  w.raw(args);
  return w.toBuffer();
}

/** A reply, as a tagged union over reply_stat/accept_stat/reject_stat. */
export type RpcReply =
  | { xid: number; stat: typeof SUCCESS; verf?: OpaqueAuth; body: readonly Buffer[] }
  | { xid: number; stat: typeof PROG_MISMATCH; verf?: OpaqueAuth; low: number; high: number }
  | { xid: number; stat: typeof PROG_UNAVAIL | typeof PROC_UNAVAIL | typeof GARBAGE_ARGS | typeof SYSTEM_ERR; verf?: OpaqueAuth }
  | { xid: number; stat: 'rpc-mismatch'; low: number; high: number }
  | { xid: number; stat: 'auth-error'; authStat: number };

/**
 * Encodes a reply as buffers to send in order: the header, then (for SUCCESS) the result body
 * buffers unchanged, so large results are not copied.
 */
export function encodeReply(reply: RpcReply): Buffer[] {
  const w = new XdrWriter(64);
  w.u32(reply.xid).u32(MSG_REPLY);
  switch (reply.stat) {
    case 'rpc-mismatch':
      w.u32(MSG_DENIED).u32(RPC_MISMATCH).u32(reply.low).u32(reply.high);
      return [w.toBuffer()];
    case 'auth-error':
      w.u32(MSG_DENIED).u32(AUTH_ERROR).u32(reply.authStat);
      return [w.toBuffer()];
    default:
      break;
  }
  w.u32(MSG_ACCEPTED);
  encodeOpaqueAuth(w, reply.verf ?? NULL_AUTH);
  w.u32(reply.stat);
  if (reply.stat === PROG_MISMATCH) w.u32(reply.low).u32(reply.high);
  if (reply.stat === SUCCESS) return [w.toBuffer(), ...reply.body];
  return [w.toBuffer()];
}

/** A decoded reply; for SUCCESS, `body` is a view of the result bytes. */
export type DecodedReply =
  | { xid: number; stat: typeof SUCCESS; verf: OpaqueAuth; body: Buffer }
  | { xid: number; stat: typeof PROG_MISMATCH; verf: OpaqueAuth; low: number; high: number }
  | { xid: number; stat: typeof PROG_UNAVAIL | typeof PROC_UNAVAIL | typeof GARBAGE_ARGS | typeof SYSTEM_ERR; verf: OpaqueAuth }
  | { xid: number; stat: 'rpc-mismatch'; low: number; high: number }
  | { xid: number; stat: 'auth-error'; authStat: number };

/** Decodes a reply message (client side); throws XdrDecodeError on anything malformed. */
export function decodeReply(msg: Buffer): DecodedReply {
  const r = new XdrReader(msg);
  const xid = r.u32();
  const mtype = r.u32();
  if (mtype !== MSG_REPLY) throw new XdrDecodeError(`message type ${mtype} is not a reply`, 4);
  const replyStat = r.u32();
  if (replyStat === MSG_DENIED) {
    const rejectStat = r.u32();
    if (rejectStat === RPC_MISMATCH) return { xid, stat: 'rpc-mismatch', low: r.u32(), high: r.u32() };
    if (rejectStat === AUTH_ERROR) return { xid, stat: 'auth-error', authStat: r.u32() };
    throw new XdrDecodeError(`reject_stat ${rejectStat}`, r.offset - 4);
  }
  if (replyStat !== MSG_ACCEPTED) throw new XdrDecodeError(`reply_stat ${replyStat}`, r.offset - 4);
  const verf = decodeOpaqueAuth(r);
  const stat = r.u32();
  switch (stat) {
    case SUCCESS:
      return { xid, stat, verf, body: r.rest() };
    case PROG_MISMATCH:
      return { xid, stat, verf, low: r.u32(), high: r.u32() };
    case PROG_UNAVAIL:
    case PROC_UNAVAIL:
    case GARBAGE_ARGS:
    case SYSTEM_ERR:
      return { xid, stat, verf };
    default:
      throw new XdrDecodeError(`accept_stat ${stat}`, r.offset - 4);
  }
}
