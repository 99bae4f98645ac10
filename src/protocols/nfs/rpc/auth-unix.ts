/**
 * RPC credentials (RFC 5531 §10 and Appendix A): AUTH_SYS (a.k.a. AUTH_UNIX) parsed into the
 * caller's uid/gid/gids, and AUTH_NONE mapped to the anonymous identity. Anything else, or a
 * malformed AUTH_SYS body, is an RpcAuthError(AUTH_BADCRED). It does not squash or check exports:
 * that belongs to the export layer, which gets `flavor` to decide.
 */
import type { Credentials } from '../../../vfs/types.js';
import { XdrDecodeError, XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { AUTH_BADCRED, AUTH_BADVERF, AUTH_NONE, AUTH_SYS, type OpaqueAuth } from './message.js';

/** RFC 5531 Appendix A limits. */
export const MAX_MACHINE_NAME = 255;
export const MAX_AUTH_SYS_GIDS = 16;

/** The conventional "nobody" ids AUTH_NONE callers get until an export maps them. */
export const ANONYMOUS_UID = 65534;
export const ANONYMOUS_GID = 65534;

/** A call denied at the authentication step; the dispatcher answers MSG_DENIED AUTH_ERROR(authStat). */
export class RpcAuthError extends Error {
  override readonly name = 'RpcAuthError';
  readonly code = 'ERR_RPC_AUTH';

  constructor(readonly authStat: number, message: string) {
    super(message);
  }
}

export interface AuthSysParams {
  stamp: number;
  /** Raw bytes; clients send their hostname, but nothing guarantees it is text. */
  machinename: Buffer;
  uid: number;
  gid: number;
  gids: number[];
}

/** The caller as the dispatcher hands it to procedures. */
export interface CallerAuth {
  /** AUTH_NONE or AUTH_SYS. */
  flavor: number;
  cred: Credentials;
  /** AUTH_SYS machinename as sent; empty for AUTH_NONE. */
  machinename: Buffer;
}

export function decodeAuthSys(body: Buffer): AuthSysParams {
  const r = new XdrReader(body);
  const stamp = r.u32();
  const machinename = r.string(MAX_MACHINE_NAME);
  const uid = r.u32();
  const gid = r.u32();
  const gids = r.array(MAX_AUTH_SYS_GIDS, (x) => x.u32());
  if (r.remaining !== 0) throw new XdrDecodeError(`${r.remaining} trailing bytes in AUTH_SYS body`, r.offset);
  return { stamp, machinename, uid, gid, gids };
}

export function encodeAuthSys(p: AuthSysParams): OpaqueAuth {
  const w = new XdrWriter(64);
  w.u32(p.stamp).string(p.machinename, MAX_MACHINE_NAME).u32(p.uid).u32(p.gid).array(p.gids, (x, g) => x.u32(g), MAX_AUTH_SYS_GIDS);
  return { flavor: AUTH_SYS, body: w.toBuffer() };
}

/**
 * Checks a call's credential and verifier and returns the caller. Throws RpcAuthError with
 * AUTH_BADCRED for an unsupported flavor or a malformed body, AUTH_BADVERF for a verifier that is
 * not an empty AUTH_NONE (both flavors we accept use a null verifier).
 */
export function authenticate(cred: OpaqueAuth, verf: OpaqueAuth): CallerAuth {
  if (verf.flavor !== AUTH_NONE || verf.body.length !== 0) {
    throw new RpcAuthError(AUTH_BADVERF, `verifier flavor ${verf.flavor} with ${verf.body.length} bytes`);
  }
  if (cred.flavor === AUTH_NONE) {
    return { flavor: AUTH_NONE, cred: { uid: ANONYMOUS_UID, gid: ANONYMOUS_GID, gids: [] }, machinename: Buffer.alloc(0) };
  }
  if (cred.flavor !== AUTH_SYS) throw new RpcAuthError(AUTH_BADCRED, `unsupported credential flavor ${cred.flavor}`);
  let p: AuthSysParams;
  try {
    p = decodeAuthSys(cred.body);
  } catch (err) {
    if (err instanceof XdrDecodeError) throw new RpcAuthError(AUTH_BADCRED, `malformed AUTH_SYS credential: ${err.message}`);
    throw err;
  }
  return { flavor: AUTH_SYS, cred: { uid: p.uid, gid: p.gid, gids: p.gids }, machinename: p.machinename };
}
