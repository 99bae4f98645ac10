/**
 * PMAPPROC_SET (RFC 1833 §3.2): registers (prog, vers, prot) -> port; TRUE if added, FALSE if the
 * tuple is already mapped or the caller is not on loopback.
 */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import { isLoopbackPeer } from './access.js';
import type { PortmapRegistry } from './registry.js';
import { decodeMapping, type Mapping } from './types.js';

export const setProc = (registry: PortmapRegistry): RpcProcedure => defineProcedure<Mapping, boolean>({
  name: 'SET',
  decodeArgs: decodeMapping,
  handle(m, ctx) {
    if (!isLoopbackPeer(ctx.peer)) {
      ctx.log.info({ mapping: m }, 'portmap SET refused: caller not on loopback');
      return false;
    }
    return registry.set(m);
  },
  encodeResult: (w, ok) => w.bool(ok),
});
