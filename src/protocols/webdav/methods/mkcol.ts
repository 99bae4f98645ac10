/**
 * MKCOL (RFC 4918 §9.3): 201 Created; 405 when the URI is mapped; 409 without a parent
 * collection; 415 for any request body (Ferry defines no MKCOL body). Lock tokens of the parent
 * collection are required.
 */
import { Errno, FsError } from '../../../util/errno.js';
import { checkIfHeader, checkLocks, type DavMethod, header, isDir, resolvePath } from '../context.js';
import { httpError, toHttpError } from '../status.js';

export const mkcol: DavMethod = {
  name: 'MKCOL',
  body: 'none',
  modifies: true,
  async handle(r) {
    const len = header(r, 'content-length');
    if (header(r, 'transfer-encoding') !== undefined || (len !== undefined && len.trim() !== '0')) {
      throw httpError('UNSUPPORTED_MEDIA_TYPE');
    }
    const name = r.fsPath[r.fsPath.length - 1];
    if (name === undefined) throw httpError('METHOD_NOT_ALLOWED', 'the root collection exists');
    const { vfs } = r.server;
    try {
      const submitted = await checkIfHeader(r);
      const parent = await resolvePath(vfs, r.cred, r.fsPath.slice(0, -1));
      if (!isDir(parent.attr)) throw new FsError(Errno.ENOTDIR, 'parent is not a collection');
      await checkLocks(r, submitted, { path: r.fsPath, parentMembership: true });
      await vfs.mkdir(r.cred, parent.ino, name, r.server.dirMode, 0);
    } catch (err) {
      throw toHttpError(err, 'mkcol');
    }
    r.res.writeHead(201, { 'Content-Length': '0' });
    r.res.end();
  },
};
