/** MOUNTPROC3_UMNT (RFC 1813 §5.2.3): removes the caller's mount-list entry for a path; void result. */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { MountBackend } from './backend.js';
import { mountClientOf } from './client-of.js';
import { decodeDirpath } from './types.js';

export const umntProc = (backend: MountBackend): RpcProcedure => defineProcedure<Buffer, void>({
  name: 'UMNT',
  decodeArgs: decodeDirpath,
  handle: (path, ctx) => backend.umnt(path, mountClientOf(ctx)),
  encodeResult: () => undefined,
});
