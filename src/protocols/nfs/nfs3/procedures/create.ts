/**
 * NFSPROC3_CREATE (RFC 1813 §3.3.8), three modes. UNCHECKED: create or open the existing file
 * (then only a size in the attributes is applied, as knfsd does). GUARDED: NFS3ERR_EXIST when the
 * name exists. EXCLUSIVE: the 8-byte verifier is stored as knfsd stores it, in mtime (first 4
 * bytes) and atime (last 4) seconds of the new file; a retransmission that finds a file with
 * that verifier succeeds, anything else is NFS3ERR_EXIST. The client's following SETATTR sets the
 * real mode and times.
 */
import { Errno, FsError, isFsError } from '../../../../util/errno.js';
import { FileType, type Attr, type Ino, type NewEntry } from '../../../../vfs/types.js';
import { setAttrRequestOf } from '../attr.js';
import type { Nfs3Call, Nfs3Context } from '../context.js';
import { applyRemainingAttrs, diropOk, encodeDiropOk, type DiropOk } from '../diropres.js';
import { defineNfs3Procedure } from '../procedure.js';
import {
  EXCLUSIVE, GUARDED, UNCHECKED, decodeDiropargs3, decodeSattr3, type Diropargs3, type Sattr3,
} from '../types.js';

type CreateHow = { mode: typeof UNCHECKED | typeof GUARDED; attrs: Sattr3 } | { mode: typeof EXCLUSIVE; verf: Buffer };

interface CreateArgs {
  where: Diropargs3;
  how: CreateHow;
}

const CREATE_MODES = new Set([UNCHECKED, GUARDED, EXCLUSIVE]);
const DEFAULT_FILE_MODE = 0o644;
/** Mode of an EXCLUSIVE-created file until the client's SETATTR. */
const EXCLUSIVE_FILE_MODE = 0o600;

function decodeArgs(r: Parameters<typeof decodeDiropargs3>[0]): CreateArgs {
  const where = decodeDiropargs3(r);
  const mode = r.enum<number>(CREATE_MODES);
  if (mode === EXCLUSIVE) return { where, how: { mode, verf: r.opaqueFixed(8) } };
  return { where, how: { mode: mode === GUARDED ? GUARDED : UNCHECKED, attrs: decodeSattr3(r) } };
}

const verifierTimes = (verf: Buffer) => ({ mtime: { sec: verf.readUInt32BE(0), nsec: 0 }, atime: { sec: verf.readUInt32BE(4), nsec: 0 } });

const hasVerifier = (attr: Attr, verf: Buffer): boolean => {
  const t = verifierTimes(verf);
  return attr.type === FileType.File && attr.mtime === t.mtime.sec && attr.atime === t.atime.sec && attr.mtimeNs === 0 && attr.atimeNs === 0;
};

async function createExclusive(call: Nfs3Call, dir: Ino, name: Buffer, verf: Buffer): Promise<NewEntry> {
  try {
    const made = await call.fs.create(call.cred, dir, name, EXCLUSIVE_FILE_MODE, true);
    const attr = await call.fs.setattr(call.cred, made.ino, verifierTimes(verf));
    return { ...made, attr };
  } catch (err) {
    if (!isFsError(err, Errno.EEXIST)) throw err;
    const existing = await call.fs.lookup(call.cred, dir, name);
    if (!hasVerifier(existing.attr, verf)) throw err;
    return existing;
  }
}

export const createProc = (ctx: Nfs3Context) => defineNfs3Procedure<CreateArgs, DiropOk>(ctx, {
  name: 'CREATE',
  nonIdempotent: true,
  failure: ['wcc'],
  decodeArgs,
  async handle({ where, how }, call) {
    // the directory's attributes are read with the create's own first read (meta reads the parent too)
    if (how.mode === EXCLUSIVE) {
      const [dir, made] = await call.resolveAlong(where.dir, 0, (ino) => {
        call.checkWritable();
        return createExclusive(call, ino, where.name, how.verf);
      });
      if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'create in a non-directory');
      return diropOk(call, made.ino, made.attr, made.parentAttr);
    }
    const req = setAttrRequestOf(how.attrs);
    const [dir, made] = await call.resolveAlong(where.dir, 0, (ino) => {
      call.checkWritable();
      return call.fs.create(call.cred, ino, where.name, req.mode ?? DEFAULT_FILE_MODE, how.mode === GUARDED);
    });
    if (dir.attr.type !== FileType.Directory) throw new FsError(Errno.ENOTDIR, 'create in a non-directory');
    let attr = made.attr;
    if (made.created) attr = await applyRemainingAttrs(call, made.ino, attr, req);
    else if (req.size !== undefined && req.size !== attr.length) attr = await call.fs.setattr(call.cred, made.ino, { size: req.size });
    return diropOk(call, made.ino, attr, made.parentAttr);
  },
  encodeOk: encodeDiropOk,
});
