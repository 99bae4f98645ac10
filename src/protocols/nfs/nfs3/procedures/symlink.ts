/** NFSPROC3_SYMLINK (RFC 1813 §3.3.10): a symbolic link with the given target bytes. */
import { Errno, FsError } from '../../../../util/errno.js';
import { FileType } from '../../../../vfs/types.js';
import { setAttrRequestOf } from '../attr.js';
import type { Nfs3Context } from '../context.js';
import { applyRemainingAttrs, diropOk, encodeDiropOk, type DiropOk } from '../diropres.js';
import { defineNfs3Procedure } from '../procedure.js';
import { NFS3_MAXPATHLEN, decodeDiropargs3, decodeSattr3, type Diropargs3, type Sattr3 } from '../types.js';

interface SymlinkArgs {
  where: Diropargs3;
  attrs: Sattr3;
  target: Buffer;
}

export const symlinkProc = (ctx: Nfs3Context) => defineNfs3Procedure<SymlinkArgs, DiropOk>(ctx, {
  name: 'SYMLINK',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs: (r) => ({ where: decodeDiropargs3(r), attrs: decodeSattr3(r), target: r.string(NFS3_MAXPATHLEN) }),
  async handle({ where, attrs, target }, call) {
    const [dir, made] = await call.resolveAlong(where.dir, 0, (ino) => {
      call.checkWritable();
      if (target.length === 0) throw new FsError(Errno.EINVAL, 'empty symlink target');
      return call.fs.symlink(call.cred, ino, where.name, target);
    });
    if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'symlink in a non-directory');
    const req = setAttrRequestOf(attrs);
    delete req.size;
    const attr = await applyRemainingAttrs(call, made.ino, made.attr, req);
    return diropOk(call, made.ino, attr, made.parentAttr);
  },
  encodeOk: encodeDiropOk,
});
