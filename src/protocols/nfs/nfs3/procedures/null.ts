/** NFSPROC3_NULL (RFC 1813 §3.3.0): no arguments, no result, no status; answers pings. */
import { defineProcedure, type RpcProcedure } from '../../rpc/dispatcher.js';

export const nullProc = (): RpcProcedure => defineProcedure<void, void>({
  name: 'NULL',
  decodeArgs: () => undefined,
  handle: () => undefined,
  encodeResult: () => undefined,
});
