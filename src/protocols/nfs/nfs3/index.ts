/**
 * The NFS version 3 program table (RFC 1813 §3.3): procedure number -> procedure, one file per
 * procedure under procedures/, built for one server instance's Nfs3Context (no module-global
 * registry). The non-idempotent procedures mark themselves for the duplicate request cache.
 */
import type { RpcProgram } from '../rpc/dispatcher.js';
import type { Nfs3Context } from './context.js';
import { accessProc } from './procedures/access.js';
import { commitProc } from './procedures/commit.js';
import { createProc } from './procedures/create.js';
import { fsinfoProc } from './procedures/fsinfo.js';
import { fsstatProc } from './procedures/fsstat.js';
import { getattrProc } from './procedures/getattr.js';
import { linkProc } from './procedures/link.js';
import { lookupProc } from './procedures/lookup.js';
import { mkdirProc } from './procedures/mkdir.js';
import { mknodProc } from './procedures/mknod.js';
import { nullProc } from './procedures/null.js';
import { pathconfProc } from './procedures/pathconf.js';
import { readProc } from './procedures/read.js';
import { readdirProc } from './procedures/readdir.js';
import { readdirplusProc } from './procedures/readdirplus.js';
import { readlinkProc } from './procedures/readlink.js';
import { removeProc } from './procedures/remove.js';
import { renameProc } from './procedures/rename.js';
import { rmdirProc } from './procedures/rmdir.js';
import { setattrProc } from './procedures/setattr.js';
import { symlinkProc } from './procedures/symlink.js';
import { writeProc } from './procedures/write.js';
import {
  NFS_PROGRAM, NFS_V3, NFSPROC3_ACCESS, NFSPROC3_COMMIT, NFSPROC3_CREATE, NFSPROC3_FSINFO, NFSPROC3_FSSTAT, NFSPROC3_GETATTR,
  NFSPROC3_LINK, NFSPROC3_LOOKUP, NFSPROC3_MKDIR, NFSPROC3_MKNOD, NFSPROC3_NULL, NFSPROC3_PATHCONF, NFSPROC3_READ,
  NFSPROC3_READDIR, NFSPROC3_READDIRPLUS, NFSPROC3_READLINK, NFSPROC3_REMOVE, NFSPROC3_RENAME, NFSPROC3_RMDIR,
  NFSPROC3_SETATTR, NFSPROC3_SYMLINK, NFSPROC3_WRITE,
} from './types.js';

export function nfs3Program(ctx: Nfs3Context): RpcProgram {
  return {
    prog: NFS_PROGRAM,
    vers: NFS_V3,
    name: 'nfs3',
    procedures: new Map([
      [NFSPROC3_NULL, nullProc()],
      [NFSPROC3_GETATTR, getattrProc(ctx)],
      [NFSPROC3_SETATTR, setattrProc(ctx)],
      [NFSPROC3_LOOKUP, lookupProc(ctx)],
      [NFSPROC3_ACCESS, accessProc(ctx)],
      [NFSPROC3_READLINK, readlinkProc(ctx)],
      [NFSPROC3_READ, readProc(ctx)],
      [NFSPROC3_WRITE, writeProc(ctx)],
      [NFSPROC3_CREATE, createProc(ctx)],
      [NFSPROC3_MKDIR, mkdirProc(ctx)],
      [NFSPROC3_SYMLINK, symlinkProc(ctx)],
      [NFSPROC3_MKNOD, mknodProc(ctx)],
      [NFSPROC3_REMOVE, removeProc(ctx)],
      [NFSPROC3_RMDIR, rmdirProc(ctx)],
      [NFSPROC3_RENAME, renameProc(ctx)],
      [NFSPROC3_LINK, linkProc(ctx)],
      [NFSPROC3_READDIR, readdirProc(ctx)],
      [NFSPROC3_READDIRPLUS, readdirplusProc(ctx)],
      [NFSPROC3_FSSTAT, fsstatProc(ctx)],
      [NFSPROC3_FSINFO, fsinfoProc(ctx)],
      [NFSPROC3_PATHCONF, pathconfProc(ctx)],
      [NFSPROC3_COMMIT, commitProc(ctx)],
    ]),
  };
}
