/** NFSPROC3_MKDIR (RFC 1813 §3.3.9): a new directory with the given mode (default 0755). */
import { Errno, FsError } from '../../../../util/errno.js';
import { FileType } from '../../../../vfs/types.js';
import { setAttrRequestOf } from '../attr.js';
import type { Nfs3Context } from '../context.js';
import { applyRemainingAttrs, diropOk, encodeDiropOk, type DiropOk } from '../diropres.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, decodeSattr3, type Diropargs3, type Sattr3 } from '../types.js';

interface MkdirArgs {
  where: Diropargs3;
  attrs: Sattr3;
}

export const mkdirProc = (ctx: Nfs3Context) => defineNfs3Procedure<MkdirArgs, DiropOk>(ctx, {
  name: 'MKDIR',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs: (r) => ({ where: decodeDiropargs3(r), attrs: decodeSattr3(r) }),
  async handle({ where, attrs }, call) {
    const req = setAttrRequestOf(attrs);
    const [dir, made] = await call.resolveAlong(where.dir, 0, (ino) => {
      call.checkWritable();
      return call.fs.mkdir(call.cred, ino, where.name, req.mode ?? 0o755);
    });
    if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'mkdir in a non-directory');
    const attr = await applyRemainingAttrs(call, made.ino, made.attr, req);
    return diropOk(call, made.ino, attr, made.parentAttr);
  },
  encodeOk: encodeDiropOk,
});
