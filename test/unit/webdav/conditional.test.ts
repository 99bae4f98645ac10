import assert from 'node:assert/strict';
import {
  evaluateConditional, formatHttpDate, parseHttpDate, strongMatch, weakMatch,
} from '../../../src/protocols/webdav/conditional.js';

const MTIME = new Date('2024-05-01T10:00:00.500Z');
const file = { exists: true, etag: '"v1"', lastModified: MTIME };
const absent = { exists: false, etag: null, lastModified: null };
const AT = 'Wed, 01 May 2024 10:00:00 GMT';
const BEFORE = 'Wed, 01 May 2024 09:00:00 GMT';
const AFTER = 'Wed, 01 May 2024 11:00:00 GMT';

describe('webdav conditional requests (RFC 7232)', () => {
  it('entity-tag comparison: strong needs both strong, weak ignores W/', () => {
    assert.equal(strongMatch('"a"', '"a"'), true);
    assert.equal(strongMatch('W/"a"', '"a"'), false);
    assert.equal(weakMatch('W/"a"', '"a"'), true);
    assert.equal(weakMatch('W/"a"', 'W/"b"'), false);
    assert.equal(weakMatch('a', 'a'), false, 'unquoted is not an entity tag');
  });

  it('If-Match: match proceeds, mismatch, weak tag, or absent resource is 412; * needs existence', () => {
    assert.equal(evaluateConditional('PUT', { ifMatch: '"v1"' }, file), 'proceed');
    assert.equal(evaluateConditional('PUT', { ifMatch: '"v0", "v1"' }, file), 'proceed');
    assert.equal(evaluateConditional('PUT', { ifMatch: '"v0"' }, file), 412);
    assert.equal(evaluateConditional('PUT', { ifMatch: 'W/"v1"' }, file), 412);
    assert.equal(evaluateConditional('PUT', { ifMatch: '*' }, file), 'proceed');
    assert.equal(evaluateConditional('PUT', { ifMatch: '*' }, absent), 412);
  });

  it('If-None-Match: GET/HEAD match is 304, other methods 412; * guards creation', () => {
    assert.equal(evaluateConditional('GET', { ifNoneMatch: '"v1"' }, file), 304);
    assert.equal(evaluateConditional('HEAD', { ifNoneMatch: 'W/"v1"' }, file), 304);
    assert.equal(evaluateConditional('GET', { ifNoneMatch: '"v2"' }, file), 'proceed');
    assert.equal(evaluateConditional('DELETE', { ifNoneMatch: '"v1"' }, file), 412);
    assert.equal(evaluateConditional('PUT', { ifNoneMatch: '*' }, file), 412);
    assert.equal(evaluateConditional('PUT', { ifNoneMatch: '*' }, absent), 'proceed');
  });

  it('If-Modified-Since: only GET/HEAD, compared in whole seconds', () => {
    assert.equal(evaluateConditional('GET', { ifModifiedSince: AT }, file), 304);
    assert.equal(evaluateConditional('GET', { ifModifiedSince: AFTER }, file), 304);
    assert.equal(evaluateConditional('GET', { ifModifiedSince: BEFORE }, file), 'proceed');
    assert.equal(evaluateConditional('PUT', { ifModifiedSince: AFTER }, file), 'proceed');
    assert.equal(evaluateConditional('GET', { ifModifiedSince: 'yesterday' }, file), 'proceed');
  });

  it('If-Unmodified-Since: modified after the date is 412', () => {
    assert.equal(evaluateConditional('PUT', { ifUnmodifiedSince: BEFORE }, file), 412);
    assert.equal(evaluateConditional('PUT', { ifUnmodifiedSince: AT }, file), 'proceed');
    assert.equal(evaluateConditional('PUT', { ifUnmodifiedSince: 'garbage' }, file), 'proceed');
  });

  it('precedence: If-Match beats If-Unmodified-Since, If-None-Match beats If-Modified-Since', () => {
    // If-Match holds, so the failing If-Unmodified-Since is not evaluated (§6 step 2).
    assert.equal(evaluateConditional('PUT', { ifMatch: '"v1"', ifUnmodifiedSince: BEFORE }, file), 'proceed');
    // If-None-Match does not match, so the matching If-Modified-Since is ignored (§6 step 4).
    assert.equal(evaluateConditional('GET', { ifNoneMatch: '"v2"', ifModifiedSince: AFTER }, file), 'proceed');
    // A failing If-Match wins over an If-None-Match that would give 304.
    assert.equal(evaluateConditional('GET', { ifMatch: '"v0"', ifNoneMatch: '"v1"' }, file), 412);
    // If-Unmodified-Since passes, then If-None-Match decides.
    assert.equal(evaluateConditional('GET', { ifUnmodifiedSince: AFTER, ifNoneMatch: '"v1"' }, file), 304);
  });

  it('HTTP-date: IMF-fixdate, RFC 850 and asctime are all UTC', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')?.getTime(), expected);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')?.getTime(), expected);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994')?.getTime(), expected);
    for (const bad of ['', '06 Nov 1994', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:00:00 GMT', 'Sun, 06 Foo 1994 08:49:37 GMT']) {
      assert.equal(parseHttpDate(bad), null, bad);
    }
    assert.equal(formatHttpDate(new Date(expected)), 'Sun, 06 Nov 1994 08:49:37 GMT');
  });
});
