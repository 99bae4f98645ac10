/** MOUNTPROC3_DUMP (RFC 1813 §5.2.2): the advisory list of (client host, mounted path). */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import type { MountBackend } from './backend.js';
import { encodeMountList, type MountEntry } from './types.js';

export const dumpProc = (backend: MountBackend): RpcProcedure => defineProcedure<void, MountEntry[]>({
  name: 'DUMP',
  decodeArgs: () => undefined,
  handle: () => backend.mounts(),
  encodeResult: encodeMountList,
});
