/**
 * curl as the client of `ferry serve` for every status code the WebDAV server promises (201, 204,
 * 206, 207, 301, 304, 400, 403, 404, 405, 409, 412, 413, 415, 416, 423, 501), and for each
 * kind of bad input (malformed XML, entity declarations, a bad If header, Depth: banana, an
 * over-long body, `..` and `%2e%2e` escapes, a foreign Destination): a 4xx/5xx answer, a request
 * log line with that status, and a server that keeps answering.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';
const PROPFIND_ALL = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>';

interface CurlResult {
  status: number;
  headers: string;
  body: string;
}

describe('curl against ferry serve (WebDAV): status codes and bad input', function () {
  this.timeout(60_000);
  let ferry: FerryServeProcess;
  let dir: string;
  let etag: string;
  let lastModified: string;

  /** One curl request: `-X method`, the path sent as is (no dot-segment folding), extra curl args. */
  async function curl(method: string, path: string, ...args: string[]): Promise<CurlResult> {
    const hdr = join(dir, 'headers');
    const body = join(dir, 'body');
    try {
      const { stdout } = await run('curl', ['-sS', '--path-as-is', '-X', method, '-D', hdr, '-o', body, '-w', '%{http_code}', ...args, `${ferry.base}${path}`]);
      return { status: Number(stdout), headers: readFileSync(hdr, 'utf8'), body: readFileSync(body, 'utf8') };
    } catch (err) {
      const e = err as { code?: string | number; stderr?: string };
      if (e.code === 'ENOENT') throw new Error('curl is not installed (Debian package curl)', { cause: err });
      throw new Error(`curl ${method} ${path} failed: ${e.stderr ?? String(err)}`, { cause: err });
    }
  }

  before(async () => {
    ferry = await startFerryServe({ env: { FERRY_LOG_LEVEL: 'info' } });
    dir = tmpDir('ferry-curl-');
    writeFileSync(join(dir, 'hello.txt'), 'hello world');
    writeFileSync(join(dir, 'big.xml'), `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>${' '.repeat(2 << 20)}`);
    assert.equal((await curl('MKCOL', '/d')).status, 201);
    assert.equal((await curl('PUT', '/d/f', '-T', join(dir, 'hello.txt'))).status, 201);
    const head = await curl('HEAD', '/d/f', '-I');
    etag = /^etag: (.*)\r$/im.exec(head.headers)?.[1] ?? '';
    lastModified = /^last-modified: (.*)\r$/im.exec(head.headers)?.[1] ?? '';
    assert.match(etag, /^"[^"]+"$/);
    assert.ok(lastModified !== '');
  });
  after(async () => {
    await ferry.stop();
  });

  describe('each status code', () => {
    it('201 PUT of a new file, 204 PUT replacing it; 201 COPY and MOVE to a new name, 204 onto an existing one', async () => {
      assert.equal((await curl('PUT', '/d/new', '-T', join(dir, 'hello.txt'))).status, 201);
      assert.equal((await curl('PUT', '/d/new', '--data-binary', 'replaced')).status, 204);
      assert.equal((await curl('COPY', '/d/new', '-H', 'Destination: /d/copy')).status, 201);
      assert.equal((await curl('COPY', '/d/new', '-H', 'Destination: /d/copy')).status, 204);
      assert.equal((await curl('MOVE', '/d/copy', '-H', 'Destination: /d/moved')).status, 201);
      assert.equal((await curl('MOVE', '/d/moved', '-H', 'Destination: /d/new')).status, 204);
      assert.equal((await curl('GET', '/d/new')).body, 'replaced');
    });

    it('201 MKCOL; 405 MKCOL on an existing collection; 409 MKCOL or PUT without a parent; 415 MKCOL with a body', async () => {
      assert.equal((await curl('MKCOL', '/d/m')).status, 201);
      assert.equal((await curl('MKCOL', '/d/m')).status, 405);
      assert.equal((await curl('MKCOL', '/no/parent')).status, 409);
      assert.equal((await curl('PUT', '/no/parent', '--data-binary', 'x')).status, 409);
      assert.equal((await curl('MKCOL', '/d/m2', '-H', 'Content-Type: text/plain', '--data-binary', 'body')).status, 415);
    });

    it('207 PROPFIND Depth 0/1 and PROPPATCH; 403 PROPFIND Depth infinity with propfind-finite-depth', async () => {
      const p = await curl('PROPFIND', '/d/', '-H', 'Depth: 1', '--data-binary', PROPFIND_ALL);
      assert.equal(p.status, 207);
      assert.match(p.body, /<D:href>\/d\/f<\/D:href>/);
      const pp = await curl('PROPPATCH', '/d/f', '--data-binary',
        '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>');
      assert.equal(pp.status, 207);
      const inf = await curl('PROPFIND', '/', '-H', 'Depth: infinity', '--data-binary', PROPFIND_ALL);
      assert.equal(inf.status, 403);
      assert.match(inf.body, /propfind-finite-depth/);
    });

    it('206 for a range, 416 for an unsatisfiable one; 304 for If-None-Match / If-Modified-Since; 412 for If-Match / If-Unmodified-Since', async () => {
      const r = await curl('GET', '/d/f', '-H', 'Range: bytes=-5');
      assert.equal(r.status, 206);
      assert.equal(r.body, 'world');
      const bad = await curl('GET', '/d/f', '-H', 'Range: bytes=100-200');
      assert.equal(bad.status, 416);
      assert.match(bad.headers, /^content-range: bytes \*\/11\r$/im);
      assert.equal((await curl('GET', '/d/f', '-H', `If-None-Match: ${etag}`)).status, 304);
      assert.equal((await curl('GET', '/d/f', '-H', `If-Modified-Since: ${lastModified}`)).status, 304);
      assert.equal((await curl('PUT', '/d/f', '-H', 'If-Match: "not-the-etag"', '--data-binary', 'x')).status, 412);
      assert.equal((await curl('PUT', '/d/f', '-H', 'If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT', '--data-binary', 'x')).status, 412);
      assert.equal((await curl('PUT', '/d/f', '-H', 'If-None-Match: *', '--data-binary', 'x')).status, 412);
      assert.equal((await curl('COPY', '/d/f', '-H', 'Destination: /d/new', '-H', 'Overwrite: F')).status, 412);
      assert.equal((await curl('GET', '/d/f')).body, 'hello world', 'no refused request changed the file');
    });

    it('423 for a PUT and a DELETE without the lock token; 204 with it in If; 409 UNLOCK of another URL', async () => {
      assert.equal((await curl('PUT', '/d/l', '--data-binary', 'x')).status, 201);
      const lock = await curl('LOCK', '/d/l', '-H', 'Timeout: Second-60', '--data-binary', LOCKINFO);
      assert.equal(lock.status, 200);
      const token = /^lock-token: <(urn:uuid:[^>]+)>\r$/im.exec(lock.headers)?.[1];
      assert.ok(token !== undefined, lock.headers);
      const refused = await curl('PUT', '/d/l', '--data-binary', 'y');
      assert.equal(refused.status, 423);
      assert.match(refused.body, /lock-token-submitted/);
      assert.equal((await curl('DELETE', '/d/l')).status, 423);
      assert.equal((await curl('PUT', '/d/l', '-H', `If: (<${token}>)`, '--data-binary', 'y')).status, 204);
      assert.equal((await curl('UNLOCK', '/d/f', '-H', `Lock-Token: <${token}>`)).status, 409);
      assert.equal((await curl('UNLOCK', '/d/l', '-H', `Lock-Token: <${token}>`)).status, 204);
      assert.equal((await curl('DELETE', '/d/l')).status, 204);
    });

    it('301 for a collection without its slash, 404 for an unmapped URL, 405 PUT onto a collection, 501 for an unknown method', async () => {
      const r = await curl('GET', '/d');
      assert.equal(r.status, 301);
      assert.match(r.headers, /^location: .*\/d\/\r$/im);
      assert.equal((await curl('GET', '/d/absent')).status, 404);
      assert.equal((await curl('PUT', '/d/m', '--data-binary', 'x')).status, 405);
      assert.equal((await curl('PATCH', '/d/f', '--data-binary', 'x')).status, 501);
    });
  });

  describe('bad input: a 4xx/5xx, a log line, and the server keeps serving', () => {
    const cases: [string, string, string, string[], number][] = [
      ['malformed XML', 'PROPFIND', '/d/', ['-H', 'Depth: 0', '--data-binary', '<D:propfind xmlns:D="DAV:"><D:prop>'], 400],
      ['XML with an entity declaration', 'PROPFIND', '/d/', ['-H', 'Depth: 0', '--data-binary',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><D:propfind xmlns:D="DAV:"><D:prop>&b;</D:prop></D:propfind>'], 400],
      ['a malformed If header', 'PUT', '/d/f', ['-H', 'If: (<urn:uuid:broken', '--data-binary', 'x'], 400],
      ['Depth: banana', 'PROPFIND', '/d/', ['-H', 'Depth: banana'], 400],
      ['an over-long XML body (2 MiB, limit 1 MiB)', 'PROPFIND', '/d/', ['-H', 'Depth: 0', '--data-binary', '@BIG'], 413],
      ['a .. segment escaping the root', 'GET', '/../../etc/passwd', [], 400],
      ['a %2e%2e segment escaping the root', 'GET', '/%2e%2e/%2E%2E/etc/passwd', [], 400],
      ['a Destination on another host', 'COPY', '/d/f', ['-H', 'Destination: http://elsewhere.example/d/g'], 403],
      ['a Destination escaping the root', 'MOVE', '/d/f', ['-H', 'Destination: /d/../../g'], 400],
    ];
    for (const [what, method, path, args, status] of cases) {
      it(`${what}: ${status}`, async () => {
        const logLines = (): number => ferry.output().split('\n')
          .filter((l) => l.includes('"msg":"request"') && l.includes(`"method":"${method}"`) && l.includes(`"status":${status}`)).length;
        const before = logLines();
        const r = await curl(method, path, ...args.map((a) => (a === '@BIG' ? `@${join(dir, 'big.xml')}` : a)));
        assert.equal(r.status, status, r.body);
        // the line is written when the handler ends, which may be just after the client has the answer
        const deadline = Date.now() + 10_000;
        while (logLines() <= before) {
          if (Date.now() > deadline) assert.fail(`no request log line with status ${status}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal((await curl('OPTIONS', '/')).status, 200, 'the server keeps serving');
        assert.equal((await curl('GET', '/d/f')).body, 'hello world', 'nothing was changed');
      });
    }
  });
});
