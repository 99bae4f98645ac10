/**
 * NFSPROC3_LINK (RFC 1813 §3.3.15): a hard link to a non-directory; answers the file's new
 * attributes (nlink) and the directory's wcc_data. Handles of two exports are NFS3ERR_XDEV.
 */
import type { Nfs3Context } from '../context.js';
import { defineNfs3Procedure } from '../procedure.js';
import { decodeDiropargs3, decodeNfsFh3, encodePostOpAttr, encodeWccData, type Diropargs3, type Fattr3, type WccData } from '../types.js';

interface LinkArgs {
  file: Buffer;
  link: Diropargs3;
}

interface LinkOk {
  attr: Fattr3;
  dirWcc: WccData;
}

export const linkProc = (ctx: Nfs3Context) => defineNfs3Procedure<LinkArgs, LinkOk>(ctx, {
  name: 'LINK',
  nonIdempotent: true,
  failure: ['attr', 'wcc'],
  decodeArgs: (r) => ({ file: decodeNfsFh3(r), link: decodeDiropargs3(r) }),
  async handle({ file, link }, call) {
    const obj = await call.resolve(file, 0);
    const dir = await call.resolve(link.dir, 1);
    call.checkWritable();
    const attr = await call.fs.link(call.cred, obj.ino, dir.ino, link.name);
    return { attr: call.fattr(attr, obj.ino), dirWcc: await call.wcc(1) };
  },
  encodeOk(w, res) {
    encodePostOpAttr(w, res.attr);
    encodeWccData(w, res.dirWcc);
  },
});
