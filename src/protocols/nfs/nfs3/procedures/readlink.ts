/** NFSPROC3_READLINK (RFC 1813 §3.3.5): the target of a symbolic link; NFS3ERR_INVAL for other types. */
import { Errno, FsError } from '../../../../util/errno.js';
import { FileType } from '../../../../vfs/types.js';
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { NFS3_MAXPATHLEN, decodeNfsFh3, encodePostOpAttr, type Fattr3 } from '../types.js';

interface ReadlinkOk {
  attr: Fattr3;
  target: Buffer;
}

export const readlinkProc = (ctx: Nfs3Context) => defineNfs3Procedure<Buffer, ReadlinkOk>(ctx, {
  name: 'READLINK',
  failure: ['attr'],
  decodeArgs: decodeNfsFh3,
  async handle(fh, call) {
    const link = await call.resolve(fh, 0);
    if (link.attr.type !== FileType.Symlink) throw new FsError(Errno.EINVAL, 'not a symlink');
    const target = await call.fs.readlink(call.cred, link.ino);
    return { attr: call.fattr(link.attr, link.ino), target };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.attr);
    w.string(res.target, NFS3_MAXPATHLEN);
  },
});
