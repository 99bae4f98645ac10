/**
 * NFSPROC3_MKNOD (RFC 1813 §3.3.11): fifos, sockets and character/block devices (the device
 * number as the Linux dev_t JuiceFS stores). Regular files, directories and links, or an unknown
 * type, are NFS3ERR_BADTYPE.
 */
import { Errno, FsError } from '../../../../util/errno.js';
import { FileType } from '../../../../vfs/types.js';
import { rdevOf, setAttrRequestOf } from '../attr.js';
import type { Nfs3Context } from '../context.js';
import { applyRemainingAttrs, diropOk, encodeDiropOk, type DiropOk } from '../diropres.js';
import { defineNfs3Procedure } from '../procedure.js';
import { Nfs3Error } from '../status.js';
import {
  NF3BLK, NF3CHR, NF3FIFO, NF3SOCK, NFS3ERR_BADTYPE, decodeDiropargs3, decodeSattr3, decodeSpecdata3,
  type Diropargs3, type Sattr3, type Specdata3,
} from '../types.js';

interface MknodArgs {
  where: Diropargs3;
  type: number;
  attrs: Sattr3;
  spec: Specdata3;
}

const FILE_TYPE_OF: ReadonlyMap<number, FileType> = new Map([
  [NF3CHR, FileType.CharDev], [NF3BLK, FileType.BlockDev], [NF3SOCK, FileType.Socket], [NF3FIFO, FileType.Fifo],
]);

export const mknodProc = (ctx: Nfs3Context) => defineNfs3Procedure<MknodArgs, DiropOk>(ctx, {
  name: 'MKNOD',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs(r) {
    const where = decodeDiropargs3(r);
    const type = r.enum<number>();
    if (type === NF3CHR || type === NF3BLK) return { where, type, attrs: decodeSattr3(r), spec: decodeSpecdata3(r) };
    if (type === NF3SOCK || type === NF3FIFO) return { where, type, attrs: decodeSattr3(r), spec: { specdata1: 0, specdata2: 0 } };
    return { where, type, attrs: {}, spec: { specdata1: 0, specdata2: 0 } };
  },
  async handle({ where, type, attrs, spec }, call) {
    const req = setAttrRequestOf(attrs);
    delete req.size;
    const [dir, made] = await call.resolveAlong(where.dir, 0, (ino) => {
      call.checkWritable();
      const fileType = FILE_TYPE_OF.get(type);
      if (fileType === undefined) throw new Nfs3Error(NFS3ERR_BADTYPE, `mknod of ftype3 ${type}`);
      return call.fs.mknod(call.cred, ino, where.name, fileType, req.mode ?? 0o644, rdevOf(spec));
    });
    if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'mknod in a non-directory');
    const attr = await applyRemainingAttrs(call, made.ino, made.attr, req);
    return diropOk(call, made.ino, attr, made.parentAttr);
  },
  encodeOk: encodeDiropOk,
});
