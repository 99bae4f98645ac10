/** PMAPPROC_DUMP (RFC 1833 §3.2): every mapping, as the `pmaplist` linked list. */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { PortmapRegistry } from './registry.js';
import { encodeMapping, type Mapping } from './types.js';

export const dumpProc = (registry: PortmapRegistry): RpcProcedure => defineProcedure<void, Mapping[]>({
  name: 'DUMP',
  decodeArgs: () => undefined,
  handle: () => registry.dump(),
  encodeResult: (w, list) => w.list(list, encodeMapping),
});
