/**
 * Portmapper v2 client calls (RFC 1833 §3.2) against a portmapper or rpcbind, by default the
 * system one on 127.0.0.1:111: register our programs at start-up (UNSET then SET, as
 * svc_register does), unregister at shutdown, and look ports up. Each call is one RPC; a missing
 * portmapper is an RpcCallError the caller may log and ignore.
 */
import { rpcCall, RpcCallError, type RpcCallTarget } from '../rpc/client.js';
import { SUCCESS } from '../rpc/message.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import {
  decodeMapping, encodeMapping, MAX_DUMP_ENTRIES, PMAP_PORT, PMAP_PROG, PMAP_VERS,
  PMAPPROC_DUMP, PMAPPROC_GETPORT, PMAPPROC_SET, PMAPPROC_UNSET, type Mapping,
} from './types.js';

export const SYSTEM_PORTMAPPER: RpcCallTarget = { host: '127.0.0.1', port: PMAP_PORT, transport: 'udp' };

async function pmapCall(target: RpcCallTarget, proc: number, args?: Buffer): Promise<XdrReader> {
  const reply = await rpcCall(target, { prog: PMAP_PROG, vers: PMAP_VERS, proc, ...(args === undefined ? {} : { args }) });
  if (reply.stat !== SUCCESS) throw new RpcCallError('EBADREPLY', `portmap procedure ${proc} answered ${String(reply.stat)}`);
  return new XdrReader(reply.body);
}

const mappingArgs = (m: Mapping): Buffer => {
  const w = new XdrWriter(16);
  encodeMapping(w, m);
  return w.toBuffer();
};

/** PMAPPROC_SET; false when the portmapper refused (the tuple is already mapped). */
export async function pmapSet(m: Mapping, target: RpcCallTarget = SYSTEM_PORTMAPPER): Promise<boolean> {
  return (await pmapCall(target, PMAPPROC_SET, mappingArgs(m))).bool();
}

/** PMAPPROC_UNSET of (prog, vers) for all protocols. */
export async function pmapUnset(prog: number, vers: number, target: RpcCallTarget = SYSTEM_PORTMAPPER): Promise<boolean> {
  return (await pmapCall(target, PMAPPROC_UNSET, mappingArgs({ prog, vers, prot: 0, port: 0 }))).bool();
}

/** PMAPPROC_GETPORT; 0 when not registered. */
export async function pmapGetport(prog: number, vers: number, prot: number, target: RpcCallTarget = SYSTEM_PORTMAPPER): Promise<number> {
  return (await pmapCall(target, PMAPPROC_GETPORT, mappingArgs({ prog, vers, prot, port: 0 }))).u32();
}

/** PMAPPROC_DUMP. */
export async function pmapDump(target: RpcCallTarget = SYSTEM_PORTMAPPER): Promise<Mapping[]> {
  return (await pmapCall(target, PMAPPROC_DUMP)).list(MAX_DUMP_ENTRIES, decodeMapping);
}

/**
 * Registers each mapping, replacing what the portmapper had for the same (prog, vers): UNSET
 * each (prog, vers) once, then SET every mapping. Resolves to the mappings the portmapper refused.
 */
export async function pmapRegister(mappings: readonly Mapping[], target: RpcCallTarget = SYSTEM_PORTMAPPER): Promise<Mapping[]> {
  const seen = new Set<string>();
  for (const m of mappings) {
    const key = `${m.prog}/${m.vers}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await pmapUnset(m.prog, m.vers, target);
  }
  const refused: Mapping[] = [];
  for (const m of mappings) if (!(await pmapSet(m, target))) refused.push(m);
  return refused;
}
