/**
 * FsError helpers: an expected error (a lookup miss) carries errno, code and message like any
 * FsError and is caught the same way; only its stack trace is left out.
 */
import assert from 'node:assert/strict';
import { Errno, expectedFsError, FsError, isFsError } from '../../../src/util/errno.js';

describe('expectedFsError', function () {
  it('is an FsError with errno, code and message, without stack frames', function () {
    const e = expectedFsError(Errno.ENOENT, 'lookup 1/x');
    assert.ok(e instanceof FsError);
    assert.ok(isFsError(e, Errno.ENOENT));
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.message, 'ENOENT: lookup 1/x');
    assert.doesNotMatch(e.stack ?? '', /\n\s+at /);
  });

  it('leaves stack traces of other errors as they were', function () {
    const before = Error.stackTraceLimit;
    expectedFsError(Errno.EEXIST);
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new FsError(Errno.EIO, 'x').stack ?? '', /\n\s+at /);
  });
});
