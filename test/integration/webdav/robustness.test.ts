/**
 * Bad input never crashes the WebDAV server: malformed XML, DOCTYPE, bad Depth and If headers,
 * bodies over the limit, dot segments (plain and percent-encoded), fragments and a Destination
 * on another host all get a 4xx/5xx, and the server answers the next request normally.
 */
import assert from 'node:assert/strict';
import { startDavHarness, type DavHarness } from '../../helpers/webdav-harness.js';

describe('WebDAV robustness against bad input', function () {
  let h: DavHarness;
  before(async () => {
    h = await startDavHarness({ maxXmlBodyBytes: 4096 });
    await h.req('MKCOL', '/d');
    await h.req('PUT', '/d/f', {}, 'x');
  });
  after(async () => {
    await h.close();
  });
  afterEach(async () => {
    assert.equal((await h.req('OPTIONS', '/')).status, 200, 'the server keeps serving');
  });

  const cases: [string, string, string, Record<string, string>, string | undefined, number][] = [
    ['malformed XML in PROPFIND', 'PROPFIND', '/d/', { Depth: '0' }, '<D:propfind xmlns:D="DAV:"><D:prop>', 400],
    ['a DOCTYPE (entity expansion attempt)', 'PROPFIND', '/d/', { Depth: '0' },
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', 400],
    ['Depth: banana', 'PROPFIND', '/d/', { Depth: 'banana' }, undefined, 400],
    ['a malformed If header', 'PUT', '/d/f', { If: '(<urn:x' }, 'y', 400],
    ['an over-long XML body', 'PROPFIND', '/d/', { Depth: '0' }, `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>${' '.repeat(10_000)}`, 413],
    ['a .. segment', 'GET', '/d/../d/f', {}, undefined, 400],
    ['a %2e%2e segment', 'GET', '/d/%2e%2e/d/f', {}, undefined, 400],
    ['an encoded slash', 'GET', '/d%2ff', {}, undefined, 400],
    ['a Destination on another host', 'MOVE', '/d/f', { Destination: 'http://other.example:81/g' }, undefined, 403],
    ['a bad Overwrite', 'COPY', '/d/f', { Destination: '/d/g', Overwrite: 'maybe' }, undefined, 400],
    ['PROPPATCH of a non-propertyupdate body', 'PROPPATCH', '/d/f', {}, '<D:propfind xmlns:D="DAV:"/>', 400],
    ['LOCK with a lockinfo missing its scope', 'LOCK', '/d/f', {}, '<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>', 400],
    ['a method WebDAV does not define (PATCH)', 'PATCH', '/d/f', {}, 'x', 501],
    ['a method the HTTP parser does not know', 'BREW', '/d/f', {}, undefined, 400],
  ];
  for (const [what, method, path, headers, body, status] of cases) {
    it(`${what} is ${status}`, async () => {
      const r = await h.req(method, path, headers, body);
      assert.equal(r.status, status, r.text);
    });
  }
});
