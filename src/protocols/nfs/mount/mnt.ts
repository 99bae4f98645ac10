/**
 * MOUNTPROC3_MNT (RFC 1813 §5.2.1): dirpath -> mountres3 (root handle + auth flavors). The
 * backend decides existence and access; a path over MNTPATHLEN is malformed (GARBAGE_ARGS).
 */
import { AUTH_NONE, AUTH_SYS } from '../rpc/message.js';
import { defineProcedure, type RpcProcedure } from '../rpc/dispatcher.js';
import { mountClientOf } from './client-of.js';
import type { MountBackend } from './backend.js';
import { decodeDirpath, encodeMountRes3, MNT3_OK, MOUNTSTAT3_NAMES, type MountRes3 } from './types.js';

export const DEFAULT_AUTH_FLAVORS: readonly number[] = [AUTH_SYS, AUTH_NONE];

export const mntProc = (backend: MountBackend): RpcProcedure => defineProcedure<Buffer, MountRes3>({
  name: 'MNT',
  decodeArgs: decodeDirpath,
  async handle(path, ctx) {
    const res = await backend.mnt(path, mountClientOf(ctx), ctx.signal);
    const status = MOUNTSTAT3_NAMES[res.status] ?? String(res.status);
    ctx.log.info({ path: path.toString('utf8'), status }, 'mount request');
    if (res.status !== MNT3_OK) return { status: res.status };
    return { ...res, authFlavors: res.authFlavors ?? [...DEFAULT_AUTH_FLAVORS] };
  },
  encodeResult: encodeMountRes3,
});
