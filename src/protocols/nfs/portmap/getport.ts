/** PMAPPROC_GETPORT (RFC 1833 §3.2): the port of (prog, vers, prot), 0 when not registered. */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { PortmapRegistry } from './registry.js';
import { decodeMapping, type Mapping } from './types.js';

export const getportProc = (registry: PortmapRegistry): RpcProcedure => defineProcedure<Mapping, number>({
  name: 'GETPORT',
  decodeArgs: decodeMapping,
  handle: (m) => registry.getport(m.prog, m.vers, m.prot),
  encodeResult: (w, port) => w.u32(port),
});
