/**
 * The MOUNT program tables over one MountBackend: version 3 (RFC 1813 §5.2) with NULL, MNT, DUMP,
 * UMNT, UMNTALL, EXPORT, and version 1 without MNT (its fhstatus carries NFSv2 handles), because
 * showmount asks version 1 for DUMP and EXPORT, whose wire forms are the same as in v3.
 * One file per procedure; this file only assembles them.
 */
import type { RpcProgram } from '../rpc/dispatcher.js';
import type { MountBackend } from './backend.js';
import { dumpProc } from './dump.js';
import { exportProc } from './export.js';
import { mntProc } from './mnt.js';
import { nullProc } from './null.js';
import {
  MOUNT_PROG, MOUNT_V1, MOUNT_V3, MOUNTPROC3_DUMP, MOUNTPROC3_EXPORT, MOUNTPROC3_MNT, MOUNTPROC3_NULL, MOUNTPROC3_UMNT, MOUNTPROC3_UMNTALL,
} from './types.js';
import { umntProc } from './umnt.js';
import { umntallProc } from './umntall.js';

export function mountProgram(backend: MountBackend): RpcProgram {
  return {
    prog: MOUNT_PROG,
    vers: MOUNT_V3,
    name: 'mount3',
    procedures: new Map([
      [MOUNTPROC3_NULL, nullProc()],
      [MOUNTPROC3_MNT, mntProc(backend)],
      [MOUNTPROC3_DUMP, dumpProc(backend)],
      [MOUNTPROC3_UMNT, umntProc(backend)],
      [MOUNTPROC3_UMNTALL, umntallProc(backend)],
      [MOUNTPROC3_EXPORT, exportProc(backend)],
    ]),
  };
}

export function mountProgramV1(backend: MountBackend): RpcProgram {
  return {
    prog: MOUNT_PROG,
    vers: MOUNT_V1,
    name: 'mount1',
    procedures: new Map([
      [MOUNTPROC3_NULL, nullProc()],
      [MOUNTPROC3_DUMP, dumpProc(backend)],
      [MOUNTPROC3_UMNT, umntProc(backend)],
      [MOUNTPROC3_UMNTALL, umntallProc(backend)],
      [MOUNTPROC3_EXPORT, exportProc(backend)],
    ]),
  };
}
