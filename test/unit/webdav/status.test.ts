import assert from 'node:assert/strict';
import { Errno, FsError } from '../../../src/util/errno.js';
import {
  HTTP_ERRORS, HttpError, httpError, renderErrorBody, statusForErrno, statusLine, toHttpError,
} from '../../../src/protocols/webdav/status.js';
import { parseXmlDocument } from '../../../src/protocols/webdav/xml/parse.js';

describe('webdav status: errno -> HTTP', () => {
  it('maps the common errnos on the target resource', () => {
    const table: [Errno, number][] = [
      [Errno.ENOENT, 404], [Errno.EACCES, 403], [Errno.EPERM, 403], [Errno.EROFS, 403],
      [Errno.ENOTEMPTY, 409], [Errno.ENOSPC, 507], [Errno.EDQUOT, 507], [Errno.ENAMETOOLONG, 414],
      [Errno.EISDIR, 409], [Errno.ENOTDIR, 409], [Errno.EINVAL, 400], [Errno.EIO, 500],
      [Errno.EEXIST, 409], [Errno.EFBIG, 413], [Errno.EAGAIN, 503], [Errno.ETIMEDOUT, 503], [Errno.ENOTSUP, 501], [Errno.ESTALE, 404],
    ];
    for (const [errno, status] of table) assert.equal(statusForErrno(errno), status, Errno[errno]);
  });

  it('depends on context where RFC 4918 says so', () => {
    assert.equal(statusForErrno(Errno.EEXIST, 'mkcol'), 405);
    assert.equal(statusForErrno(Errno.EEXIST, 'destination'), 412);
    assert.equal(statusForErrno(Errno.ENOENT, 'parent'), 409);
    assert.equal(statusForErrno(Errno.ENOENT, 'put'), 409);
    assert.equal(statusForErrno(Errno.ENOENT, 'mkcol'), 409);
    assert.equal(statusForErrno(Errno.EISDIR, 'put'), 405);
  });

  it('toHttpError keeps HttpErrors, maps FsErrors with their errno name as code, and hides the rest as 500', () => {
    const h = httpError('BAD_DEPTH');
    assert.equal(toHttpError(h), h);
    const fs = toHttpError(new FsError(Errno.ENOTEMPTY, 'rmdir /a'), 'target');
    assert.equal(fs.status, 409);
    assert.equal(fs.code, 'ENOTEMPTY');
    assert.ok(fs.cause instanceof FsError);
    const full = toHttpError(new FsError(Errno.ENOSPC, 'put vol/chunks/0/0/13_0_4000000'));
    assert.equal(full.status, 507);
    assert.equal(full.message, 'ENOSPC: Insufficient Storage', 'a 5xx body names no object key or path');
    assert.ok(full.cause instanceof FsError, 'the log keeps the details');
    const busy = toHttpError(new FsError(Errno.EAGAIN));
    assert.equal(busy.headers['Retry-After'], '1');
    assert.equal(toHttpError(new FsError(Errno.ETIMEDOUT)).headers['Retry-After'], '1');
    const other = toHttpError(new TypeError('boom'));
    assert.equal(other.status, 500);
    assert.equal(other.code, 'INTERNAL');
    assert.ok(other.cause instanceof TypeError);
  });

  it('every table code builds an HttpError with its status', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      const e = httpError(code as keyof typeof HTTP_ERRORS, 'detail');
      assert.ok(e instanceof HttpError);
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.equal(e.name, 'HttpError');
      assert.match(e.message, /: detail$/);
    }
  });

  it('renders the <D:error> body with hrefs inside the condition', () => {
    const body = renderErrorBody({ name: 'lock-token-submitted', hrefs: ['/locked/a&b'] });
    const root = parseXmlDocument(body);
    assert.ok(root !== null);
    assert.equal(root.ns, 'DAV:');
    assert.equal(root.local, 'error');
    const cond = root.children.find((c) => c.kind === 'element');
    assert.ok(cond?.kind === 'element' && cond.local === 'lock-token-submitted' && cond.ns === 'DAV:');
    assert.match(body, /<D:href>\/locked\/a&amp;b<\/D:href>/);
    assert.match(renderErrorBody({ name: 'propfind-finite-depth' }), /<D:propfind-finite-depth\/>/);
  });

  it('status lines carry the reason phrase', () => {
    assert.equal(statusLine(207), 'HTTP/1.1 207 Multi-Status');
    assert.equal(statusLine(423), 'HTTP/1.1 423 Locked');
    assert.equal(statusLine(424), 'HTTP/1.1 424 Failed Dependency');
  });
});
