/**
 * OPTIONS (RFC 4918 §9 / §10.1, RFC 7231 §4.3.7): advertises DAV compliance classes 1 and 2 and
 * the methods, at every path (including unmapped ones and the root). Touches no resource.
 */
import type { DavMethod } from '../context.js';

/** Methods this server implements, for Allow. */
export const ALLOWED_METHODS = 'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK';

export const options: DavMethod = {
  name: 'OPTIONS',
  body: 'none',
  modifies: false,
  handle(r) {
    r.res.writeHead(200, {
      DAV: '1, 2',
      'MS-Author-Via': 'DAV',
      Allow: ALLOWED_METHODS,
      'Accept-Ranges': 'bytes',
      'Content-Length': '0',
    });
    r.res.end();
    return Promise.resolve();
  },
};
