/** MOUNTPROC3_UMNTALL (RFC 1813 §5.2.4): removes every mount-list entry of the caller; void. */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { MountBackend } from './backend.js';
import { mountClientOf } from './client-of.js';

export const umntallProc = (backend: MountBackend): RpcProcedure => defineProcedure<void, void>({
  name: 'UMNTALL',
  decodeArgs: () => undefined,
  handle: (_args, ctx) => backend.umntAll(mountClientOf(ctx)),
  encodeResult: () => undefined,
});
