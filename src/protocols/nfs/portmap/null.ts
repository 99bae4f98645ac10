/** PMAPPROC_NULL (RFC 1833 §3.2): no arguments, no result; answers pings. */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';

export const nullProc = (): RpcProcedure => defineProcedure<void, void>({
  name: 'NULL',
  decodeArgs: () => undefined,
  handle: () => undefined,
  encodeResult: () => undefined,
});
