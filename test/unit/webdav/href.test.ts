import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeRequestPath, displayName, encodeHref, encodeSegment, isSameOrAncestor, relativeTo,
} from '../../../src/protocols/webdav/href.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';

const GBK_NIHAO = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // "你好" in GBK, not valid UTF-8

function badPath(target: string): void {
  assert.throws(() => decodeRequestPath(target), (e: unknown) => e instanceof HttpError && e.status === 400 && e.code === 'BAD_PATH', target);
}

describe('webdav href: encoding', () => {
  it('keeps unreserved and sub-delims literal and encodes everything else per byte', () => {
    assert.equal(encodeSegment(Buffer.from("AZaz09-._~!$&'()*+,;=")), "AZaz09-._~!$&'()*+,;=");
    assert.equal(encodeSegment(Buffer.from('a b%c#d?e/f:g@h')), 'a%20b%25c%23d%3Fe%2Ff%3Ag%40h');
    assert.equal(encodeSegment(Buffer.from('ü€')), '%C3%BC%E2%82%AC');
    assert.equal(encodeSegment(GBK_NIHAO), '%C4%E3%BA%C3');
  });

  it('builds absolute hrefs with a trailing slash for collections and an optional base', () => {
    assert.equal(encodeHref([], true), '/');
    assert.equal(encodeHref([Buffer.from('a'), Buffer.from('b c')], false), '/a/b%20c');
    assert.equal(encodeHref([Buffer.from('dir')], true), '/dir/');
    assert.equal(encodeHref([Buffer.from('dir')], true, '/dav'), '/dav/dir/');
    assert.equal(encodeHref([], true, '/dav'), '/dav/');
  });
});

describe('webdav href: decoding request paths', () => {
  it('names with %, #, ?, spaces, unicode and GBK bytes round-trip exactly', () => {
    const names = ['100%', 'a#b', 'what?', 'two  spaces ', 'ünïcødé 日本', '😀', "it's (1)+[2]"].map((s) => Buffer.from(s));
    names.push(GBK_NIHAO, Buffer.from([0x01, 0x7f, 0x80, 0xff]));
    const href = encodeHref(names, false);
    assert.match(href, /^[\x21-\x7e]+$/, 'hrefs are printable ASCII');
    const back = decodeRequestPath(href);
    assert.deepEqual(back.segments.map((b) => b.toString('hex')), names.map((b) => b.toString('hex')));
    assert.equal(back.trailingSlash, false);
  });

  it('any byte string without NUL or "/" round-trips (property)', () => {
    const name = fc.uint8Array({ minLength: 1, maxLength: 40 })
      .filter((a) => !a.includes(0) && !a.includes(0x2f) && !(a.length <= 2 && a.every((b) => b === 0x2e)));
    fc.assert(fc.property(fc.array(name, { maxLength: 6 }), fc.boolean(), (segs, coll) => {
      const p = decodeRequestPath(encodeHref(segs, coll));
      assert.deepEqual(p.segments.map((b) => [...b]), segs.map((b) => [...b]));
      assert.equal(p.trailingSlash, coll && segs.length > 0);
    }), { numRuns: 300 });
  });

  it('collections are recognised with and without a trailing slash; "//" collapses', () => {
    assert.deepEqual(decodeRequestPath('/a/b/'), { segments: [Buffer.from('a'), Buffer.from('b')], trailingSlash: true });
    assert.deepEqual(decodeRequestPath('/a//b'), { segments: [Buffer.from('a'), Buffer.from('b')], trailingSlash: false });
    assert.deepEqual(decodeRequestPath('/'), { segments: [], trailingSlash: false });
  });

  it('query, fragment and an absolute-form scheme/authority are stripped; lower-case hex works', () => {
    assert.deepEqual(decodeRequestPath('/a%c3%bc?sort=name#x').segments, [Buffer.from('aü')]);
    assert.deepEqual(decodeRequestPath('http://host:8080/dav/x%20y?q').segments, [Buffer.from('dav'), Buffer.from('x y')]);
    assert.deepEqual(decodeRequestPath('https://host').segments, []);
  });

  it('".." and "." are refused, literally or percent-encoded', () => {
    for (const t of ['/a/../b', '/..', '/a/%2e%2e/b', '/a/%2E%2E', '/a/.%2e/', '/a/%2e./x', '/./a', '/a/%2e']) badPath(t);
  });

  it('NUL, encoded "/", bad escapes, relative paths and non-octet characters are refused', () => {
    for (const t of ['/a%00b', '/a%2fb', '/a%2Fb/c', '/a%zz', '/a%4', '/a%', 'a/b', '', '/caf\u0101']) badPath(t);
  });

  it('"..." and names merely containing dots are ordinary names', () => {
    assert.deepEqual(decodeRequestPath('/.../..a/.hidden').segments.map(String), ['...', '..a', '.hidden']);
  });
});

describe('webdav href: helpers', () => {
  it('relativeTo strips a mount prefix and refuses paths outside it', () => {
    const base = [Buffer.from('dav')];
    assert.deepEqual(relativeTo(decodeRequestPath('/dav/x/'), base), { segments: [Buffer.from('x')], trailingSlash: true });
    assert.equal(relativeTo(decodeRequestPath('/other/x'), base), null);
    assert.equal(relativeTo(decodeRequestPath('/davx'), base), null);
  });

  it('isSameOrAncestor compares whole segments', () => {
    const p = (s: string): Buffer[] => [...decodeRequestPath(s).segments];
    assert.ok(isSameOrAncestor(p('/a'), p('/a/b')));
    assert.ok(isSameOrAncestor(p('/a/b'), p('/a/b')));
    assert.ok(isSameOrAncestor([], p('/a')));
    assert.ok(!isSameOrAncestor(p('/a/b'), p('/a')));
    assert.ok(!isSameOrAncestor(p('/ab'), p('/a/b')));
  });

  it('displayName shows UTF-8 as is and anything else percent-escaped, losslessly', () => {
    assert.equal(displayName(Buffer.from('Grüße 100%.txt')), 'Grüße 100%.txt');
    const shown = displayName(Buffer.concat([Buffer.from('a%'), GBK_NIHAO]));
    assert.equal(shown, 'a%25%C4%E3%BA%C3');
    assert.deepEqual(decodeRequestPath(`/${shown}`).segments[0], Buffer.concat([Buffer.from('a%'), GBK_NIHAO]));
    assert.equal(displayName(Buffer.from('tab\there')), 'tab%09here');
  });
});
