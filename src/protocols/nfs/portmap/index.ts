/**
 * The portmapper v2 program table (RFC 1833 §3): NULL, SET, UNSET, GETPORT, DUMP over one
 * registry. CALLIT is deliberately absent (answered PROC_UNAVAIL): it makes the server an
 * amplifier for forged UDP calls.
 */
import type { RpcProgram } from '../rpc/dispatcher.js';
import { dumpProc } from './dump.js';
import { getportProc } from './getport.js';
import { nullProc } from './null.js';
import type { PortmapRegistry } from './registry.js';
import { setProc } from './set.js';
import { PMAP_PROG, PMAP_VERS, PMAPPROC_DUMP, PMAPPROC_GETPORT, PMAPPROC_NULL, PMAPPROC_SET, PMAPPROC_UNSET } from './types.js';
import { unsetProc } from './unset.js';

export function portmapProgram(registry: PortmapRegistry): RpcProgram {
  return {
    prog: PMAP_PROG,
    vers: PMAP_VERS,
    name: 'portmap2',
    procedures: new Map([
      [PMAPPROC_NULL, nullProc()],
      [PMAPPROC_SET, setProc(registry)],
      [PMAPPROC_UNSET, unsetProc(registry)],
      [PMAPPROC_GETPORT, getportProc(registry)],
      [PMAPPROC_DUMP, dumpProc(registry)],
    ]),
  };
}
