/**
 * LOCK (RFC 4918 §9.10): create an exclusive or shared write lock (Depth 0 or infinity) and answer
 * with its lockdiscovery and a `Lock-Token: <urn:uuid:…>` header, or refresh one (empty body,
 * token in the If header). Locking an unmapped URL creates an empty file (§7.3, the recommended
 * alternative to lock-null resources) and answers 201. Conflicts are 423 no-conflicting-lock.
 */
import { MODE_WRITE } from '../../../vfs/types.js';
import { activeLock, checkIfHeader, type DavMethod, header, type DavRequest, isDir, resolvePath, tryResolve } from '../context.js';
import { parseDepth, parseTimeout } from '../headers.js';
import type { LockRecord } from '../locks.js';
import { activeLockXml } from '../props.js';
import { httpError, toHttpError } from '../status.js';
import { parseLockInfo } from '../xml/parse.js';
import { Errno, FsError } from '../../../util/errno.js';

function sendLock(r: DavRequest, l: LockRecord, status: number): void {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>${activeLockXml(activeLock(r, l))}</D:lockdiscovery></D:prop>\n`;
  r.res.writeHead(status, {
    'Content-Type': 'application/xml; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Lock-Token': `<${l.token}>`,
  });
  r.res.end(body);
}

export const lock: DavMethod = {
  name: 'LOCK',
  body: 'buffered',
  modifies: true,
  async handle(r) {
    const { vfs, locks } = r.server;
    const timeoutSec = parseTimeout(header(r, 'timeout'), r.server.lockTimeout);
    const info = parseLockInfo(r.body);
    const submitted = await checkIfHeader(r);
    if (info === null) {
      const covering = await locks.covering(r.fsPath);
      const held = covering.find((l) => submitted.includes(l.token));
      if (held === undefined) {
        throw httpError('PRECONDITION_FAILED', 'refresh needs the token of a lock on this resource', { condition: { name: 'lock-token-submitted' } });
      }
      const refreshed = await locks.refresh(held.token, timeoutSec);
      if (refreshed === undefined) throw httpError('PRECONDITION_FAILED', 'the lock expired');
      sendLock(r, refreshed, 200);
      return;
    }
    const depth = parseDepth(header(r, 'depth'), 'infinity', [0, 'infinity']);
    const existing = await tryResolve(vfs, r.cred, r.fsPath);
    const name = r.fsPath[r.fsPath.length - 1];
    let parentIno = null;
    if (existing === null) {
      if (name === undefined) throw new FsError(Errno.EIO, 'root not found');
      try {
        const parent = await resolvePath(vfs, r.cred, r.fsPath.slice(0, -1));
        if (!isDir(parent.attr)) throw new FsError(Errno.ENOTDIR, 'parent is not a collection');
        parentIno = parent.ino;
      } catch (err) {
        throw toHttpError(err, 'parent');
      }
    }
    const l = await locks.lock({
      root: r.fsPath, scope: info.scope, depth: depth === 0 ? 0 : 'infinity',
      ownerXml: info.ownerXml, timeoutSec, principal: r.user?.name ?? '',
    }, (root) => activeLock(r, { token: '', root, scope: 'exclusive', depth: 0, ownerXml: null, timeoutSec: 0, expiresAtMs: 0, principal: '' }).rootHref);
    if (parentIno !== null && name !== undefined) {
      try {
        const made = await vfs.create(r.cred, parentIno, name, r.server.fileMode, 0, false);
        const { handle } = await vfs.open(r.cred, made.ino, MODE_WRITE);
        await vfs.release(r.cred, handle);
      } catch (err) {
        await locks.unlock(l.token);
        throw toHttpError(err, 'parent');
      }
    }
    sendLock(r, l, existing === null ? 201 : 200);
  },
};
