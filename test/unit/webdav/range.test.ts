import assert from 'node:assert/strict';
import { HttpError } from '../../../src/protocols/webdav/status.js';
import { contentRange, ifRangeAllows, multipartByteranges, parsePutContentRange, parseRange, rangeNotSatisfiable } from '../../../src/protocols/webdav/range.js';

describe('webdav Range (RFC 7233)', () => {
  it('single, open-ended and suffix ranges', () => {
    assert.deepEqual(parseRange('bytes=0-499', 1000), { kind: 'partial', ranges: [{ start: 0, end: 499 }] });
    assert.deepEqual(parseRange('bytes=500-', 1000), { kind: 'partial', ranges: [{ start: 500, end: 999 }] });
    assert.deepEqual(parseRange('bytes=-200', 1000), { kind: 'partial', ranges: [{ start: 800, end: 999 }] });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'partial', ranges: [{ start: 0, end: 999 }] });
    assert.deepEqual(parseRange('bytes=900-5000', 1000), { kind: 'partial', ranges: [{ start: 900, end: 999 }] });
    assert.deepEqual(parseRange('Bytes = 1-1', 1000), { kind: 'partial', ranges: [{ start: 1, end: 1 }] });
  });

  it('multiple ranges, with overlapping and adjacent ones merged in order', () => {
    assert.deepEqual(parseRange('bytes=0-99, 200-299', 1000), { kind: 'partial', ranges: [{ start: 0, end: 99 }, { start: 200, end: 299 }] });
    assert.deepEqual(parseRange('bytes=500-599,0-199,100-299,300-310', 1000), { kind: 'partial', ranges: [{ start: 0, end: 310 }, { start: 500, end: 599 }] });
    assert.deepEqual(parseRange('bytes=-10,0-9', 1000), { kind: 'partial', ranges: [{ start: 0, end: 9 }, { start: 990, end: 999 }] });
  });

  it('unsatisfiable ranges give 416 with Content-Range: bytes */size', () => {
    assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=1000-2000,5000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    const err = rangeNotSatisfiable(1000);
    assert.equal(err.status, 416);
    assert.deepEqual(err.headers, { 'Content-Range': 'bytes */1000' });
  });

  it('a satisfiable part among unsatisfiable ones is served', () => {
    assert.deepEqual(parseRange('bytes=5000-,10-19', 1000), { kind: 'partial', ranges: [{ start: 10, end: 19 }] });
  });

  it('no header, other units, bad syntax and too many ranges give the full body', () => {
    for (const v of [undefined, 'items=0-1', 'bytes=5-2', 'bytes=abc', 'bytes=', 'bytes=-', 'bytes=1-2-3', '0-1']) {
      assert.deepEqual(parseRange(v, 1000), { kind: 'full' }, String(v));
    }
    const many = `bytes=${Array.from({ length: 20 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;
    assert.deepEqual(parseRange(many, 1000), { kind: 'full' });
    assert.equal(parseRange(many, 1000, { maxRanges: 32 }).kind, 'partial');
  });

  it('an empty file with a suffix range is served whole', () => {
    assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'full' });
  });

  it('Content-Range of a part', () => {
    assert.equal(contentRange({ start: 0, end: 499 }, 1234), 'bytes 0-499/1234');
  });

  it('multipart/byteranges framing has the exact announced length', () => {
    const data = Buffer.from('0123456789abcdefghij');
    const ranges = [{ start: 0, end: 3 }, { start: 10, end: 12 }];
    const plan = multipartByteranges(ranges, data.length, 'text/plain', 'BOUNDARY');
    assert.equal(plan.contentType, 'multipart/byteranges; boundary=BOUNDARY');
    const body = Buffer.concat([
      ...plan.parts.flatMap((p) => [Buffer.from(p.head), data.subarray(p.range.start, p.range.end + 1)]),
      Buffer.from(plan.tail),
    ]);
    assert.equal(body.length, plan.contentLength);
    assert.equal(body.toString(),
      '--BOUNDARY\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-3/20\r\n\r\n0123'
      + '\r\n--BOUNDARY\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/20\r\n\r\nabc'
      + '\r\n--BOUNDARY--\r\n');
    assert.match(multipartByteranges(ranges, 20, 'x/y').contentType, /boundary=[0-9a-f]{24}$/);
  });

  it('If-Range: strong ETag match or exact date allows the range', () => {
    const v = { etag: '"abc"', lastModified: new Date('2024-05-01T10:00:00.700Z') };
    assert.equal(ifRangeAllows(undefined, v), true);
    assert.equal(ifRangeAllows('"abc"', v), true);
    assert.equal(ifRangeAllows('"abd"', v), false);
    assert.equal(ifRangeAllows('W/"abc"', v), false);
    assert.equal(ifRangeAllows('Wed, 01 May 2024 10:00:00 GMT', v), true);
    assert.equal(ifRangeAllows('Wed, 01 May 2024 09:59:59 GMT', v), false);
    assert.equal(ifRangeAllows('garbage', v), false);
  });
});

describe('webdav Content-Range of a partial PUT (RFC 9110 §14.5)', () => {
  it('bytes FIRST-LAST/COMPLETE and bytes FIRST-LAST/*', () => {
    assert.deepEqual(parsePutContentRange('bytes 0-9/10'), { first: 0, last: 9, complete: 10 });
    assert.deepEqual(parsePutContentRange(' Bytes 5-5/*'), { first: 5, last: 5, complete: null });
  });

  it('a reversed range, a range past the stated length, the unsatisfied form or garbage is 400', () => {
    for (const v of ['bytes 5-4/10', 'bytes 0-10/10', 'bytes */10', 'bytes 1-/10', '0-1/2', 'bytes 0-1', 'bytes=0-1/2', '']) {
      assert.throws(() => parsePutContentRange(v), (e: unknown) => e instanceof HttpError && e.status === 400 && e.code === 'BAD_CONTENT_RANGE', v);
    }
  });
});
