/**
 * UNLOCK (RFC 4918 §9.11): removes the lock named by Lock-Token when it covers the request URI
 * (else 409 lock-token-matches-request-uri); only the user who took it may remove it. 204.
 */
import { type DavMethod, header } from '../context.js';
import { parseLockToken } from '../headers.js';
import { httpError } from '../status.js';

export const unlock: DavMethod = {
  name: 'UNLOCK',
  body: 'none',
  modifies: true,
  async handle(r) {
    const token = parseLockToken(header(r, 'lock-token'));
    const covering = await r.server.locks.covering(r.fsPath);
    const l = covering.find((c) => c.token === token);
    if (l === undefined) {
      throw httpError('LOCK_TOKEN_MISMATCH', undefined, { condition: { name: 'lock-token-matches-request-uri' } });
    }
    if (l.principal !== (r.user?.name ?? '')) throw httpError('LOCK_NOT_OWNER');
    await r.server.locks.unlock(token);
    r.res.writeHead(204);
    r.res.end();
  },
};
