/**
 * Portmapper version 2 (RFC 1833 §3): program and procedure numbers and the `mapping` record.
 * Pure codec; the registry and the procedures live in their own files.
 */
import type { XdrReader } from '../xdr/reader.js';
import type { XdrWriter } from '../xdr/writer.js';

export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;
export const PMAP_PORT = 111;

export const PMAPPROC_NULL = 0;
export const PMAPPROC_SET = 1;
export const PMAPPROC_UNSET = 2;
export const PMAPPROC_GETPORT = 3;
export const PMAPPROC_DUMP = 4;
export const PMAPPROC_CALLIT = 5;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Upper bound on entries a DUMP reply is decoded with (our registry is far smaller). */
export const MAX_DUMP_ENTRIES = 4096;

export interface Mapping {
  prog: number;
  vers: number;
  /** IPPROTO_TCP or IPPROTO_UDP. */
  prot: number;
  port: number;
}

export function decodeMapping(r: XdrReader): Mapping {
  return { prog: r.u32(), vers: r.u32(), prot: r.u32(), port: r.u32() };
}

export function encodeMapping(w: XdrWriter, m: Mapping): void {
  w.u32(m.prog).u32(m.vers).u32(m.prot).u32(m.port);
}
