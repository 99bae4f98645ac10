import assert from 'node:assert/strict';
import { parseDepth, parseDestination, parseLockToken, parseOverwrite, parseTimeout } from '../../../src/protocols/webdav/headers.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';

const is = (status: number, code: string) => (e: unknown): boolean => e instanceof HttpError && e.status === status && e.code === code;

describe('webdav headers: Depth', () => {
  it('accepts 0, 1 and infinity (any case, padded) and defaults when absent', () => {
    assert.equal(parseDepth('0', 'infinity'), 0);
    assert.equal(parseDepth(' 1 ', 'infinity'), 1);
    assert.equal(parseDepth('Infinity', 0), 'infinity');
    assert.equal(parseDepth(undefined, 'infinity'), 'infinity');
    assert.equal(parseDepth(undefined, 0, [0]), 0);
  });

  it('anything else, or a value the method does not allow, is 400', () => {
    for (const v of ['banana', '2', '-1', '', 'infinite', '01', '1,0']) assert.throws(() => parseDepth(v, 0), is(400, 'BAD_DEPTH'), v);
    assert.throws(() => parseDepth('1', 0, [0, 'infinity']), is(400, 'BAD_DEPTH'));
  });
});

describe('webdav headers: Overwrite', () => {
  it('T and F, absent means T; anything else is 400', () => {
    assert.equal(parseOverwrite(undefined), true);
    assert.equal(parseOverwrite('T'), true);
    assert.equal(parseOverwrite('F'), false);
    assert.equal(parseOverwrite(' f '), false);
    for (const v of ['yes', 'TRUE', '', '0']) assert.throws(() => parseOverwrite(v), is(400, 'BAD_OVERWRITE'), v);
  });
});

describe('webdav headers: Destination', () => {
  const p = (s: string): string[] => s.split('/').filter((x) => x !== '');
  const segs = (d: { segments: readonly Buffer[] }): string[] => d.segments.map(String);

  it('accepts an absolute URI on the same authority, with default ports equal', () => {
    assert.deepEqual(segs(parseDestination('http://files.example.com/a/b%20c', { host: 'files.example.com' })), ['a', 'b c']);
    assert.deepEqual(segs(parseDestination('http://files.example.com:80/x', { host: 'Files.Example.com' })), p('/x'));
    assert.deepEqual(segs(parseDestination('https://h:443/x/', { host: 'h' })), ['x']);
    assert.deepEqual(segs(parseDestination('http://[::1]:8080/x', { host: '[::1]:8080' })), ['x']);
  });

  it('accepts an absolute path, and aliases of this server', () => {
    assert.deepEqual(segs(parseDestination('/a/b', { host: undefined })), ['a', 'b']);
    assert.deepEqual(segs(parseDestination('https://public.example.com/x', { host: '127.0.0.1:8080', aliases: ['public.example.com'] })), ['x']);
  });

  it('another host or port is 403 (destination on another server)', () => {
    assert.throws(() => parseDestination('http://other.example.com/a', { host: 'files.example.com' }), is(403, 'DESTINATION_OTHER_SERVER'));
    assert.throws(() => parseDestination('http://files.example.com:8081/a', { host: 'files.example.com:8080' }), is(403, 'DESTINATION_OTHER_SERVER'));
  });

  it('missing, relative, non-http or with ".." is 400', () => {
    assert.throws(() => parseDestination(undefined, { host: 'h' }), is(400, 'BAD_DESTINATION'));
    assert.throws(() => parseDestination('a/b', { host: 'h' }), is(400, 'BAD_DESTINATION'));
    assert.throws(() => parseDestination('ftp://h/a', { host: 'h' }), is(400, 'BAD_DESTINATION'));
    assert.throws(() => parseDestination('http://h/a/%2e%2e/etc', { host: 'h' }), is(400, 'BAD_PATH'));
  });
});

describe('webdav headers: Timeout', () => {
  const policy = { defaultSec: 600, maxSec: 3600 };
  it('takes the first usable entry, capped; Infinite is the cap; junk is the default', () => {
    assert.equal(parseTimeout(undefined, policy), 600);
    assert.equal(parseTimeout('Second-120', policy), 120);
    assert.equal(parseTimeout('Infinite, Second-4100000000', policy), 3600);
    assert.equal(parseTimeout('Second-4100000000', policy), 3600);
    assert.equal(parseTimeout('Weird, Second-30', policy), 30);
    assert.equal(parseTimeout('Second-abc', policy), 600);
    assert.equal(parseTimeout('second-5', policy), 5);
  });
});

describe('webdav headers: Lock-Token', () => {
  it('returns the token inside angle brackets', () => {
    assert.equal(parseLockToken('<urn:uuid:a515cfa4-5da4-22e1-f5b5-00a0451e6bf7>'), 'urn:uuid:a515cfa4-5da4-22e1-f5b5-00a0451e6bf7');
    assert.equal(parseLockToken(' <opaquelocktoken:abc> '), 'opaquelocktoken:abc');
  });

  it('a bare token, missing brackets or a non-URI is 400', () => {
    for (const v of [undefined, 'urn:uuid:x', '<urn:uuid:x', '<>', '<no-scheme>', '<urn:a b>']) {
      assert.throws(() => parseLockToken(v), is(400, 'BAD_LOCK_TOKEN'), String(v));
    }
  });
});
