/**
 * MOUNTPROC3_EXPORT (RFC 1813 §5.2.5): the export list with allowed groups. libnfs calls it right
 * after MNT and fails the mount if it errors, so it must always answer (research/nfs.md §4).
 */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { MountBackend } from './backend.js';
import { mountClientOf } from './client-of.js';
import { encodeExports, type ExportEntry } from './types.js';

export const exportProc = (backend: MountBackend): RpcProcedure => defineProcedure<void, ExportEntry[]>({
  name: 'EXPORT',
  decodeArgs: () => undefined,
  handle: (_args, ctx) => backend.exports(mountClientOf(ctx)),
  encodeResult: encodeExports,
});
