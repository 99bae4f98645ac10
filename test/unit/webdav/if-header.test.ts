import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type DavPath, decodeRequestPath, encodeHref } from '../../../src/protocols/webdav/href.js';
import { evaluateIf, type IfResourceState, parseIfHeader } from '../../../src/protocols/webdav/if-header.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';

const T1 = 'urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2';
const T2 = 'opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4';

const bad = (e: unknown): boolean => e instanceof HttpError && e.status === 400 && e.code === 'BAD_IF_HEADER';

describe('webdav If header: grammar', () => {
  it('parses an untagged list with a state token and an entity tag (RFC 4918 §10.4.6)', () => {
    assert.deepEqual(parseIfHeader(`(<${T1}> ["I am an ETag"]) (["I am another ETag"])`), {
      tagged: false,
      lists: [
        { resource: null, conditions: [{ not: false, kind: 'token', token: T1 }, { not: false, kind: 'etag', etag: '"I am an ETag"' }] },
        { resource: null, conditions: [{ not: false, kind: 'etag', etag: '"I am another ETag"' }] },
      ],
    });
  });

  it('parses Not, weak tags, no spaces and odd spacing', () => {
    const h = parseIfHeader(`(Not<DAV:no-lock>[W/"x"])(  not   <${T2}>  )`);
    assert.deepEqual(h.lists.map((l) => l.conditions), [
      [{ not: true, kind: 'token', token: 'DAV:no-lock' }, { not: false, kind: 'etag', etag: 'W/"x"' }],
      [{ not: true, kind: 'token', token: T2 }],
    ]);
  });

  it('parses litmus-style tagged lists with absolute URIs and paths', () => {
    const h = parseIfHeader(`<http://localhost:8080/litmus/lockme> (<${T2}>) <http://localhost:8080/litmus/other%20file> (Not <DAV:no-lock>) (["abc"])`);
    assert.equal(h.tagged, true);
    assert.deepEqual(h.lists.map((l) => (l.resource === null ? null : encodeHref(l.resource.segments, false))), ['/litmus/lockme', '/litmus/other%20file', '/litmus/other%20file']);
    assert.equal(parseIfHeader('</a/b> (<urn:x:y>)').lists[0]?.resource?.segments.length, 2);
  });

  it('malformed headers are 400, never another error', () => {
    for (const v of [
      '', '   ', '(', ')', '()', '( )', '(<urn:a>', '<urn:a>', '<http://h/a>', '<http://h/a> <http://h/b> (<urn:x>)',
      '(<urn:a>) <http://h/b> (<urn:b>)', '<http://h/b> (<urn:b>) (<urn:c>) (<urn:d>) garbage',
      '(Not)', '(Not Not <urn:a>)', '([noquote])', '(["unterminated])', '(["a" "b"])', '([W/])', '(<no-scheme>)',
      '(<urn:a b>)', '(<urn:a> garbage)', 'Not (<urn:a>)', '<relative/path> (<urn:a>)', '</a/../b> (<urn:a>)',
      '(<urn:a>) (', '([ "ctl\x01here" ])', '(["a\\"])', '[<urn:a>]',
    ]) {
      assert.throws(() => parseIfHeader(v), bad, JSON.stringify(v));
    }
  });

  it('random input either parses or is rejected with 400 (property)', () => {
    const alphabet = fc.constantFrom('(', ')', '<', '>', '[', ']', '"', ' ', 'Not', 'W/', 'urn:x', 'DAV:no-lock', '/a', 'http://h/p', 'x', '\t', '%2e', 'é');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')), (s) => {
      try {
        const h = parseIfHeader(s);
        assert.ok(h.lists.length > 0);
      } catch (err) {
        assert.ok(bad(err), `unexpected ${String(err)} for ${JSON.stringify(s)}`);
      }
    }), { numRuns: 2000 });
  });
});

describe('webdav If header: evaluation', () => {
  const req = decodeRequestPath('/dir/file');
  const world = new Map<string, IfResourceState>([
    ['/dir/file', { etag: '"e1"', lockTokens: [T1] }],
    ['/dir/other', { etag: '"e2"', lockTokens: [] }],
  ]);
  let lookups: string[] = [];
  const lookup = (p: DavPath): Promise<IfResourceState> => {
    const key = encodeHref(p.segments, false);
    lookups.push(key);
    return Promise.resolve(world.get(key) ?? { etag: null, lockTokens: [] });
  };
  beforeEach(() => {
    lookups = [];
  });

  it('no header holds and submits nothing', async () => {
    assert.deepEqual(await evaluateIf(null, req, lookup), { ok: true, submittedTokens: [] });
  });

  it('a matching lock token holds and is submitted', async () => {
    assert.deepEqual(await evaluateIf(parseIfHeader(`(<${T1}>)`), req, lookup), { ok: true, submittedTokens: [T1] });
  });

  it('a wrong token fails, yet counts as submitted', async () => {
    assert.deepEqual(await evaluateIf(parseIfHeader(`(<${T2}>)`), req, lookup), { ok: false, submittedTokens: [T2] });
  });

  it('(Not <DAV:no-lock>) always holds; (<DAV:no-lock>) never does', async () => {
    assert.equal((await evaluateIf(parseIfHeader('(Not <DAV:no-lock>)'), req, lookup)).ok, true);
    assert.equal((await evaluateIf(parseIfHeader('(<DAV:no-lock>)'), req, lookup)).ok, false);
  });

  it('lists are a disjunction, conditions inside a list a conjunction', async () => {
    assert.equal((await evaluateIf(parseIfHeader(`(<${T2}>) (<${T1}>)`), req, lookup)).ok, true);
    assert.equal((await evaluateIf(parseIfHeader(`(<${T1}> ["e1"])`), req, lookup)).ok, true);
    assert.equal((await evaluateIf(parseIfHeader(`(<${T1}> ["nope"])`), req, lookup)).ok, false);
    const both = await evaluateIf(parseIfHeader(`(<${T1}> [W/"e1"]) (Not <${T2}>)`), req, lookup);
    assert.deepEqual(both, { ok: true, submittedTokens: [T1, T2] });
  });

  it('tagged lists are evaluated against their own resource, each looked up once', async () => {
    const h = parseIfHeader(`<http://h/dir/other> (<${T1}>) (["e1"]) <http://h/dir/other> (["e2"])`);
    assert.equal((await evaluateIf(h, req, lookup)).ok, true);
    assert.deepEqual(lookups, ['/dir/other']);
    const miss = parseIfHeader(`</dir/other> (<${T1}>)`);
    assert.equal((await evaluateIf(miss, req, lookup)).ok, false);
  });

  it('an unmapped resource has no state: only Not conditions hold', async () => {
    assert.equal((await evaluateIf(parseIfHeader('</nowhere> (["e1"])'), req, lookup)).ok, false);
    assert.equal((await evaluateIf(parseIfHeader('</nowhere> (Not ["e1"])'), req, lookup)).ok, true);
  });
});
