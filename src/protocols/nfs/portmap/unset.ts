/**
 * PMAPPROC_UNSET (RFC 1833 §3.2): removes every mapping of (prog, vers), whatever prot and port
 * say; TRUE if something was removed, FALSE otherwise or when the caller is not on loopback.
 */
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import { isLoopbackPeer } from './access.js';
import type { PortmapRegistry } from './registry.js';
import { decodeMapping, type Mapping } from './types.js';

export const unsetProc = (registry: PortmapRegistry): RpcProcedure => defineProcedure<Mapping, boolean>({
  name: 'UNSET',
  decodeArgs: decodeMapping,
  handle(m, ctx) {
    if (!isLoopbackPeer(ctx.peer)) {
      ctx.log.info({ mapping: m }, 'portmap UNSET refused: caller not on loopback');
      return false;
    }
    return registry.unset(m.prog, m.vers);
  },
  encodeResult: (w, ok) => w.bool(ok),
});
