/**
 * The WebDAV methods over HTTP against an in-process server on a real Vfs (SQLite metadata, file
 * object store): one check per status code each method promises (RFC 4918, RFC 7232, RFC 7233).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { FileType, ROOT_CREDENTIALS, ROOT_INODE } from '../../../src/vfs/types.js';
import { startDavHarness, type DavHarness } from '../../helpers/webdav-harness.js';

const PROPFIND_ALL = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';

describe('WebDAV methods (in-process server, SQLite volume)', function () {
  let h: DavHarness;
  beforeEach(async () => {
    h = await startDavHarness({ engine: 'sqlite' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('OPTIONS at the root and at an unmapped path advertises DAV 1, 2, MS-Author-Via and Allow', async () => {
    for (const p of ['/', '/no/such/thing']) {
      const r = await h.req('OPTIONS', p);
      assert.equal(r.status, 200);
      assert.equal(r.headers['dav'], '1, 2');
      assert.equal(r.headers['ms-author-via'], 'DAV');
      assert.match(String(r.headers['allow']), /PROPFIND/);
    }
  });

  it('PUT creates (201), replaces (204), and GET returns the bytes with a strong ETag that changes with the content', async () => {
    const data = randomBytes(100_000);
    const p1 = await h.req('PUT', '/f.bin', {}, data);
    assert.equal(p1.status, 201);
    const g1 = await h.req('GET', '/f.bin');
    assert.equal(g1.status, 200);
    assert.ok(g1.body.equals(data));
    const etag1 = String(g1.headers['etag']);
    assert.match(etag1, /^"[^"]+"$/);
    assert.equal(p1.headers['etag'], etag1, 'the PUT answers the ETag a GET then sees');
    assert.ok(g1.headers['last-modified'] !== undefined);
    const p2 = await h.req('PUT', '/f.bin', {}, 'other');
    assert.equal(p2.status, 204);
    const g2 = await h.req('GET', '/f.bin');
    assert.equal(g2.text, 'other');
    assert.notEqual(g2.headers['etag'], etag1);
    assert.equal(p2.headers['etag'], g2.headers['etag']);
    const head = await h.req('HEAD', '/f.bin');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);
  });

  it('PUT accepts a chunked body without Content-Length', async () => {
    assert.equal((await h.req('PUT', '/chunked.txt', {}, ['one ', 'two ', 'three'])).status, 201);
    assert.equal((await h.req('GET', '/chunked.txt')).text, 'one two three');
  });

  it('PUT with Content-Range overwrites those bytes in place (204, new ETag), keeps the rest; a mismatched or malformed one is 400', async () => {
    assert.equal((await h.req('PUT', '/p.txt', {}, '0123456789')).status, 201);
    const etag = String((await h.req('HEAD', '/p.txt')).headers['etag']);
    const r = await h.req('PUT', '/p.txt', { 'Content-Range': 'bytes 3-5/10' }, 'abc');
    assert.equal(r.status, 204);
    assert.notEqual(r.headers['etag'], etag);
    assert.equal((await h.req('GET', '/p.txt')).text, '012abc6789');
    assert.equal((await h.req('PUT', '/p.txt', { 'Content-Range': 'bytes 10-11/*' }, 'XY')).status, 204, 'appending past the end');
    assert.equal((await h.req('GET', '/p.txt')).text, '012abc6789XY');
    assert.equal((await h.req('PUT', '/new-partial.txt', { 'Content-Range': 'bytes 2-3/4' }, 'zz')).status, 201, 'a new file, a hole before the range');
    assert.deepEqual([...(await h.req('GET', '/new-partial.txt')).body], [0, 0, 0x7a, 0x7a]);
    for (const [range, body] of [['bytes 3-5/10', 'abcd'], ['bytes 5-3/10', 'abc'], ['bytes 3-12/10', 'abcdefghij'], ['bytes */10', 'abc'], ['3-5/10', 'abc']] as const) {
      assert.equal((await h.req('PUT', '/p.txt', { 'Content-Range': range }, body)).status, 400, range);
    }
    assert.equal((await h.req('PUT', '/p.txt', { 'Content-Range': 'bytes 0-2/*' }, ['a', 'bc'])).status, 400, 'chunked: no Content-Length to check');
    assert.equal((await h.req('GET', '/p.txt')).text, '012abc6789XY', 'refused partial PUTs changed nothing');
  });

  it('a PUT cut off part-way leaves what was there: the replaced file keeps its old content, a new file does not appear, no hidden file remains', async () => {
    const old = randomBytes(3 * 1024 * 1024);
    assert.equal((await h.req('PUT', '/kept.bin', {}, old)).status, 201);
    const etag = String((await h.req('HEAD', '/kept.bin')).headers['etag']);
    await cutOffPut(h, '/kept.bin', 8 * 1024 * 1024, 2 * 1024 * 1024);
    await cutOffPut(h, '/never.bin', 8 * 1024 * 1024, 2 * 1024 * 1024);
    await eventually(async () => {
      const names = await listNames(h, '/');
      assert.deepEqual(names, ['kept.bin'], 'no new file, no hidden file of either PUT');
    });
    const got = await h.req('GET', '/kept.bin');
    assert.ok(got.body.equals(old), 'the old content, every byte');
    assert.equal(got.headers['etag'], etag);
    assert.equal((await h.req('GET', '/never.bin')).status, 404);
  });

  it('PUT over a file keeps its dead properties, permission bits and owner; a file with two names is overwritten in place', async () => {
    const vfs = h.volume.vfs;
    assert.equal((await h.req('PUT', '/owned.txt', {}, 'first')).status, 201);
    const set = await h.req('PROPPATCH', '/owned.txt', {},
      '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>teal</Z:color></D:prop></D:set></D:propertyupdate>');
    assert.equal(set.status, 207);
    const before = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('owned.txt'));
    await vfs.setattr(ROOT_CREDENTIALS, before.ino, { mode: 0o640, uid: 1234, gid: 567 });
    assert.equal((await h.req('PUT', '/owned.txt', {}, 'second')).status, 204);
    assert.equal((await h.req('GET', '/owned.txt')).text, 'second');
    const after = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('owned.txt'));
    assert.deepEqual([after.attr.mode, after.attr.uid, after.attr.gid, after.attr.nlink], [0o640, 1234, 567, 1]);
    const prop = await h.req('PROPFIND', '/owned.txt', { Depth: '0' }, '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:color/></D:prop></D:propfind>');
    assert.match(prop.text, />teal</);
    assert.deepEqual(await listNames(h, '/'), ['owned.txt']);

    await vfs.symlink(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('sym'), Buffer.from('owned.txt'));
    const onLink = await h.req('PUT', '/sym', {}, 'over a symlink');
    assert.ok(onLink.status >= 400, `PUT onto a symlink is refused, not a rename over it: ${onLink.status}`);
    assert.equal((await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('sym'))).attr.type, FileType.Symlink);

    await vfs.link(ROOT_CREDENTIALS, after.ino, ROOT_INODE, Buffer.from('other-name.txt'));
    assert.equal((await h.req('PUT', '/owned.txt', {}, 'third')).status, 204);
    assert.equal((await h.req('GET', '/other-name.txt')).text, 'third', 'both names see the new content');
    assert.equal((await h.req('GET', '/owned.txt')).text, 'third');
  });

  it('PUT without a parent collection is 409, onto a collection 405', async () => {
    assert.equal((await h.req('PUT', '/missing/f.txt', {}, 'x')).status, 409);
    assert.equal((await h.req('MKCOL', '/d')).status, 201);
    assert.equal((await h.req('PUT', '/d', {}, 'x')).status, 405);
  });

  it('PUT honours If-Match and If-None-Match: * (412)', async () => {
    assert.equal((await h.req('PUT', '/c.txt', { 'If-None-Match': '*' }, 'a')).status, 201);
    assert.equal((await h.req('PUT', '/c.txt', { 'If-None-Match': '*' }, 'b')).status, 412);
    assert.equal((await h.req('PUT', '/c.txt', { 'If-Match': '"nope"' }, 'b')).status, 412);
    const etag = String((await h.req('HEAD', '/c.txt')).headers['etag']);
    assert.equal((await h.req('PUT', '/c.txt', { 'If-Match': etag }, 'b')).status, 204);
  });

  it('GET ranges: single (206), suffix, multi-range multipart/byteranges, unsatisfiable (416)', async () => {
    await h.req('PUT', '/r.txt', {}, '0123456789');
    const one = await h.req('GET', '/r.txt', { Range: 'bytes=2-4' });
    assert.equal(one.status, 206);
    assert.equal(one.text, '234');
    assert.equal(one.headers['content-range'], 'bytes 2-4/10');
    const suffix = await h.req('GET', '/r.txt', { Range: 'bytes=-3' });
    assert.equal(suffix.text, '789');
    const multi = await h.req('GET', '/r.txt', { Range: 'bytes=0-1,5-6' });
    assert.equal(multi.status, 206);
    assert.match(String(multi.headers['content-type']), /^multipart\/byteranges; boundary=/);
    assert.match(multi.text, /Content-Range: bytes 0-1\/10\r\n\r\n01\r\n/);
    assert.match(multi.text, /Content-Range: bytes 5-6\/10\r\n\r\n56\r\n/);
    const bad = await h.req('GET', '/r.txt', { Range: 'bytes=20-30' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10');
  });

  it('GET preconditions: If-None-Match / If-Modified-Since give 304, If-Match / If-Unmodified-Since 412', async () => {
    await h.req('PUT', '/p.txt', {}, 'x');
    const etag = String((await h.req('HEAD', '/p.txt')).headers['etag']);
    assert.equal((await h.req('GET', '/p.txt', { 'If-None-Match': etag })).status, 304);
    assert.equal((await h.req('GET', '/p.txt', { 'If-Modified-Since': new Date(Date.now() + 86_400_000).toUTCString() })).status, 304);
    assert.equal((await h.req('GET', '/p.txt', { 'If-Match': '"other"' })).status, 412);
    assert.equal((await h.req('GET', '/p.txt', { 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status, 412);
  });

  it('GET on a collection without its slash redirects (301); with it, a browser gets the HTML listing', async () => {
    await h.req('MKCOL', '/docs');
    await h.req('PUT', '/docs/a%20b.txt', {}, 'x');
    const redirect = await h.req('GET', '/docs');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers['location'], '/docs/');
    const listing = await h.req('GET', '/docs/');
    assert.equal(listing.status, 200);
    assert.match(String(listing.headers['content-type']), /^text\/html/);
    assert.match(listing.text, /href="\.\/a%20b\.txt"/);
  });

  it('DELETE removes a file (204) and a whole tree (204); an unmapped URL is 404', async () => {
    await h.req('PUT', '/x.txt', {}, 'x');
    assert.equal((await h.req('DELETE', '/x.txt')).status, 204);
    assert.equal((await h.req('GET', '/x.txt')).status, 404);
    await h.req('MKCOL', '/t');
    await h.req('MKCOL', '/t/u');
    await h.req('PUT', '/t/u/f', {}, 'x');
    assert.equal((await h.req('DELETE', '/t/')).status, 204);
    assert.equal((await h.req('PROPFIND', '/t/', { Depth: '0' })).status, 404);
    assert.equal((await h.req('DELETE', '/t/')).status, 404);
  });

  it('MKCOL: 201, 405 when it exists, 409 without a parent, 415 with a body', async () => {
    assert.equal((await h.req('MKCOL', '/m')).status, 201);
    assert.equal((await h.req('MKCOL', '/m')).status, 405);
    assert.equal((await h.req('MKCOL', '/nope/m')).status, 409);
    assert.equal((await h.req('MKCOL', '/body', { 'Content-Type': 'text/xml' }, '<x/>')).status, 415);
  });

  it('COPY: 201, Overwrite F onto an existing resource 412, Overwrite T 204, missing parent 409, other host 403', async () => {
    await h.req('PUT', '/src.txt', {}, 'copy me');
    const dest = (p: string): string => `${h.base}${p}`;
    assert.equal((await h.req('COPY', '/src.txt', { Destination: dest('/dst.txt') })).status, 201);
    assert.equal((await h.req('GET', '/dst.txt')).text, 'copy me');
    assert.equal((await h.req('COPY', '/src.txt', { Destination: dest('/dst.txt'), Overwrite: 'F' })).status, 412);
    assert.equal((await h.req('COPY', '/src.txt', { Destination: dest('/dst.txt'), Overwrite: 'T' })).status, 204);
    assert.equal((await h.req('COPY', '/src.txt', { Destination: dest('/none/dst.txt') })).status, 409);
    assert.equal((await h.req('COPY', '/src.txt', { Destination: 'http://elsewhere.example/dst.txt' })).status, 403);
    await h.req('PUT', '/src.txt', {}, 'changed');
    assert.equal((await h.req('GET', '/dst.txt')).text, 'copy me', 'the copy is independent of its source');
  });

  it('COPY of a collection: Depth infinity copies members, Depth 0 only the collection', async () => {
    await h.req('MKCOL', '/c');
    await h.req('PUT', '/c/f', {}, 'member');
    assert.equal((await h.req('COPY', '/c/', { Destination: `${h.base}/deep/` })).status, 201);
    assert.equal((await h.req('GET', '/deep/f')).text, 'member');
    assert.equal((await h.req('COPY', '/c/', { Destination: `${h.base}/shallow/`, Depth: '0' })).status, 201);
    assert.equal((await h.req('GET', '/shallow/f')).status, 404);
    assert.equal((await h.req('COPY', '/c/', { Destination: `${h.base}/c/inside/` })).status, 403);
  });

  it('MOVE renames (201, source gone), over an existing file 204, Overwrite F 412', async () => {
    await h.req('PUT', '/a.txt', {}, 'A');
    await h.req('PUT', '/b.txt', {}, 'B');
    assert.equal((await h.req('MOVE', '/a.txt', { Destination: '/c.txt' })).status, 201);
    assert.equal((await h.req('GET', '/a.txt')).status, 404);
    assert.equal((await h.req('MOVE', '/c.txt', { Destination: '/b.txt', Overwrite: 'F' })).status, 412);
    assert.equal((await h.req('MOVE', '/c.txt', { Destination: '/b.txt' })).status, 204);
    assert.equal((await h.req('GET', '/b.txt')).text, 'A');
  });

  it('PROPFIND Depth 0 and 1 list hrefs with collections ending in /, Depth infinity is 403 propfind-finite-depth', async () => {
    await h.req('MKCOL', '/dir');
    await h.req('MKCOL', '/dir/sub');
    await h.req('PUT', '/dir/file.txt', {}, 'x');
    const d0 = await h.req('PROPFIND', '/dir', { Depth: '0' }, PROPFIND_ALL);
    assert.equal(d0.status, 207);
    assert.match(d0.text, /<D:href>\/dir\/<\/D:href>/);
    assert.equal(d0.text.match(/<D:response>/g)?.length, 1);
    const d1 = await h.req('PROPFIND', '/dir/', { Depth: '1' });
    assert.equal(d1.text.match(/<D:response>/g)?.length, 3);
    assert.match(d1.text, /<D:href>\/dir\/sub\/<\/D:href>/);
    assert.match(d1.text, /<D:href>\/dir\/file\.txt<\/D:href>.*<D:getcontentlength>1<\/D:getcontentlength>/s);
    const inf = await h.req('PROPFIND', '/dir/', { Depth: 'infinity' });
    assert.equal(inf.status, 403);
    assert.match(inf.text, /propfind-finite-depth/);
    const named = await h.req('PROPFIND', '/dir/file.txt', { Depth: '0' },
      '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><D:getetag/><Z:missing/></D:prop></D:propfind>');
    assert.match(named.text, /HTTP\/1\.1 404 Not Found/);
    assert.match(named.text, /<D:getetag>/);
  });

  it('PROPFIND Depth 1 streams a directory of many entries', async () => {
    await h.req('MKCOL', '/big');
    const vfs = h.volume.vfs;
    const dir = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('big'));
    for (let i = 0; i < 600; i++) await vfs.create(ROOT_CREDENTIALS, dir.ino, Buffer.from(`f${i}`), 0o644, 0);
    const r = await h.req('PROPFIND', '/big/', { Depth: '1' });
    assert.equal(r.status, 207);
    assert.equal(r.text.match(/<D:response>/g)?.length, 601);
  });

  it('PROPFIND Depth 1 over more entries than one readdir page pairs every entry with its own dead properties', async () => {
    await h.req('MKCOL', '/dead');
    const vfs = h.volume.vfs;
    const dir = await vfs.lookup(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('dead'));
    // more than one readdir page (1000 entries): the dead properties are read per page
    for (let i = 0; i < 1100; i++) await vfs.create(ROOT_CREDENTIALS, dir.ino, Buffer.from(`f${i}`), 0o644, 0);
    for (let i = 0; i < 1100; i += 7) {
      const set = await h.req('PROPPATCH', `/dead/f${i}`, {},
        `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>c${i}</Z:color></D:prop></D:set></D:propertyupdate>`);
      assert.equal(set.status, 207);
    }
    const r = await h.req('PROPFIND', '/dead/', { Depth: '1' }, PROPFIND_ALL);
    const responses = r.text.split('<D:response>').slice(1);
    assert.equal(responses.length, 1101);
    const seen = new Set<string>();
    for (const resp of responses) {
      const href = /<D:href>\/dead\/([^<]*)<\/D:href>/.exec(resp)?.[1];
      assert.ok(href !== undefined, resp);
      seen.add(href);
      const i = /^f(\d+)$/.exec(href)?.[1];
      const color = /<[A-Za-z0-9]+:color[^>]*>([^<]*)</.exec(resp)?.[1];
      assert.equal(color, i !== undefined && Number(i) % 7 === 0 ? `c${i}` : undefined, `${href}: ${resp}`);
    }
    assert.equal(seen.size, 1101);
  });

  it('GET of a file spanning several read chunks returns every byte, in full and as a range across chunks', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 12345);
    assert.equal((await h.req('PUT', '/multi.bin', {}, data)).status, 201);
    const full = await h.req('GET', '/multi.bin');
    assert.equal(full.status, 200);
    assert.ok(full.body.equals(data));
    const from = 4 * 1024 * 1024 - 100;
    const to = 8 * 1024 * 1024 + 100;
    const part = await h.req('GET', '/multi.bin', { Range: `bytes=${from}-${to}` });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(data.subarray(from, to + 1)));
  });

  it('concurrent GETs of different multi-chunk files each get their own bytes while read buffers are reused', async () => {
    const files = Array.from({ length: 4 }, (_, i) => ({ path: `/c${i}.bin`, data: randomBytes(9 * 1024 * 1024 + 1000 * i) }));
    for (const f of files) assert.equal((await h.req('PUT', f.path, {}, f.data)).status, 201);
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(files.map((f) => h.req('GET', f.path)));
      got.forEach((g, i) => assert.ok(g.body.equals(files[i]?.data ?? Buffer.alloc(0)), `round ${round}: ${files[i]?.path} intact`));
    }
  });

  it('PROPPATCH sets and removes dead properties (207), refuses protected ones with 403 and 424', async () => {
    await h.req('PUT', '/pp.txt', {}, 'x');
    const set = await h.req('PROPPATCH', '/pp.txt', {},
      '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>');
    assert.equal(set.status, 207);
    assert.match(set.text, /200 OK/);
    const get = await h.req('PROPFIND', '/pp.txt', { Depth: '0' }, '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:color/></D:prop></D:propfind>');
    assert.match(get.text, />blue</);
    const prot = await h.req('PROPPATCH', '/pp.txt', {},
      '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><D:getetag>x</D:getetag><Z:b>1</Z:b></D:prop></D:set></D:propertyupdate>');
    assert.match(prot.text, /403 Forbidden/);
    assert.match(prot.text, /424 Failed Dependency/);
    assert.match(prot.text, /cannot-modify-protected-property/);
    await h.req('PROPPATCH', '/pp.txt', {},
      '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:remove><D:prop><Z:color/></D:prop></D:remove></D:propertyupdate>');
    const after = await h.req('PROPFIND', '/pp.txt', { Depth: '0' }, '<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:color/></D:prop></D:propfind>');
    assert.match(after.text, /404 Not Found/);
  });
});

/** Sends a PUT announcing `total` bytes, sends `sent` of them, and drops the connection. */
function cutOffPut(h: DavHarness, path: string, total: number, sent: number): Promise<void> {
  const { port } = new URL(h.base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), '127.0.0.1', () => {
      s.write(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${total}\r\n\r\n`);
      s.write(randomBytes(sent), () => setTimeout(() => s.destroy(), 200));
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

/** The member names of collection `path` (PROPFIND Depth 1), sorted. */
async function listNames(h: DavHarness, path: string): Promise<string[]> {
  const r = await h.req('PROPFIND', path, { Depth: '1' }, '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>');
  assert.equal(r.status, 207);
  return [...r.text.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => decodeURIComponent(m[1] ?? '')).filter((href) => href !== path)
    .map((href) => href.slice(path.length).replace(/\/$/, '')).sort();
}

/** Retries `check` until it passes (a failed PUT is cleaned up after its connection is gone), up to 5 s. */
async function eventually(check: () => Promise<void>): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    try {
      return await check();
    } catch (err) {
      if (waited >= 5000) throw err;
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
