import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  activeLockXml, contentTypeOf, type DavAttr, etagOf, isProtectedProp, propfindPropstats, rfc3339,
} from '../../../src/protocols/webdav/props.js';
import { MultistatusWriter, type PropEntry } from '../../../src/protocols/webdav/xml/build.js';
import { parseXmlDocument, type XElement } from '../../../src/protocols/webdav/xml/parse.js';
import { DAV_NS } from '../../../src/protocols/webdav/xml/types.js';

const file: DavAttr = {
  isCollection: false, ino: 0x1234n, length: 5000n, mtimeSec: 1714557600, mtimeNs: 123456789,
  ctimeSec: 1714557601, ctimeNs: 5, name: Buffer.from('report.PDF'),
};
const dir: DavAttr = { ...file, isCollection: true, name: Buffer.from('docs'), length: 4096n };

const names = (entries: readonly PropEntry[]): string[] => entries.map((e) => `${e.ns === DAV_NS ? 'D' : e.ns}:${e.name}`);
const textValue = (entries: readonly PropEntry[], name: string): string | undefined => {
  const v = entries.find((e) => e.name === name)?.value;
  return v?.kind === 'text' ? v.text : v?.xml;
};

describe('webdav props: live properties', () => {
  it('getetag is strong, quoted, and changes with mtime ns, length and ctime', () => {
    const e = etagOf(file);
    assert.match(e, /^"[0-9a-f-]+"$/);
    assert.notEqual(etagOf({ ...file, mtimeNs: file.mtimeNs + 1 }), e);
    assert.notEqual(etagOf({ ...file, length: 5001n }), e);
    assert.notEqual(etagOf({ ...file, ctimeNs: 6 }), e);
    assert.notEqual(etagOf({ ...file, ino: 0x1235n }), e);
    assert.equal(etagOf({ ...file }), e);
  });

  it('dates: creationdate is RFC 3339, getlastmodified IMF-fixdate', () => {
    const ps = propfindPropstats({ kind: 'allprop', include: [] }, file, {}, []);
    const props = ps[0]?.props ?? [];
    assert.equal(textValue(props, 'getlastmodified'), 'Wed, 01 May 2024 10:00:00 GMT');
    assert.equal(textValue(props, 'creationdate'), '2024-05-01T10:00:01Z');
    assert.equal(rfc3339(0), '1970-01-01T00:00:00Z');
  });

  it('content types come from the extension, case-insensitively', () => {
    assert.equal(contentTypeOf(Buffer.from('report.PDF')), 'application/pdf');
    assert.equal(contentTypeOf(Buffer.from('a.tar.gz')), 'application/gzip');
    assert.equal(contentTypeOf(Buffer.from('.bashrc')), 'application/octet-stream');
    assert.equal(contentTypeOf(Buffer.from('noext')), 'application/octet-stream');
    assert.equal(contentTypeOf(Buffer.from([0xc4, 0xe3, 0x2e, 0x6d, 0x70, 0x34])), 'video/mp4');
  });

  it('allprop lists live properties (not quota) then dead ones; collections have no length or type', () => {
    const dead = [{ ns: 'urn:x', name: 'color', lang: null, innerXml: 'red' }];
    const f = propfindPropstats({ kind: 'allprop', include: [] }, file, {}, dead);
    assert.deepEqual(names(f[0]?.props ?? []), [
      'D:creationdate', 'D:displayname', 'D:getcontentlength', 'D:getcontenttype', 'D:getetag', 'D:getlastmodified',
      'D:resourcetype', 'D:supportedlock', 'D:lockdiscovery', 'urn:x:color',
    ]);
    assert.equal(textValue(f[0]?.props ?? [], 'getcontentlength'), '5000');
    const d = propfindPropstats({ kind: 'allprop', include: [] }, dir, { quota: { availableBytes: 10n, usedBytes: 20n } }, []);
    const dnames = names(d[0]?.props ?? []);
    assert.ok(!dnames.includes('D:getcontentlength') && !dnames.includes('D:quota-used-bytes'));
    assert.equal(textValue(d[0]?.props ?? [], 'resourcetype'), '<D:collection/>');
  });

  it('allprop include and prop requests return quota when known', () => {
    const ctx = { quota: { availableBytes: 1n << 40n, usedBytes: 12345 } };
    const inc = propfindPropstats({ kind: 'allprop', include: [{ ns: DAV_NS, name: 'quota-used-bytes' }] }, dir, ctx, []);
    assert.equal(textValue(inc[0]?.props ?? [], 'quota-used-bytes'), '12345');
    const asked = propfindPropstats({ kind: 'prop', props: [{ ns: DAV_NS, name: 'quota-available-bytes' }] }, dir, ctx, []);
    assert.deepEqual(asked, [{ status: 200, props: [{ ns: DAV_NS, name: 'quota-available-bytes', value: { kind: 'text', text: String(1n << 40n) } }] }]);
  });

  it('a prop request splits found (200) and unknown (404) properties', () => {
    const ps = propfindPropstats({
      kind: 'prop',
      props: [{ ns: DAV_NS, name: 'getetag' }, { ns: 'urn:x', name: 'nothere' }, { ns: DAV_NS, name: 'getcontentlength' }, { ns: 'urn:x', name: 'color' }],
    }, dir, {}, [{ ns: 'urn:x', name: 'color', lang: 'en', innerXml: '<c xmlns="urn:x">red</c>' }]);
    assert.deepEqual(ps.map((p) => [p.status, names(p.props)]), [
      [200, ['D:getetag', 'urn:x:color']],
      [404, ['urn:x:nothere', 'D:getcontentlength']],
    ]);
    assert.equal(ps[0]?.props[1]?.lang, 'en');
  });

  it('propname gives names without values; a dead displayname shadows the live one', () => {
    const dead = [{ ns: DAV_NS, name: 'displayname', lang: null, innerXml: 'My Report' }];
    const pn = propfindPropstats({ kind: 'propname' }, file, {}, dead);
    assert.ok(pn[0]?.props.every((p) => p.value === undefined));
    assert.equal(names(pn[0]?.props ?? []).filter((n) => n === 'D:displayname').length, 1);
    const ap = propfindPropstats({ kind: 'allprop', include: [] }, file, {}, dead);
    assert.equal(textValue(ap[0]?.props ?? [], 'displayname'), 'My Report');
  });

  it('protected properties are the computed ones; displayname and dead ones are not', () => {
    assert.equal(isProtectedProp({ ns: DAV_NS, name: 'getetag' }), true);
    assert.equal(isProtectedProp({ ns: DAV_NS, name: 'lockdiscovery' }), true);
    assert.equal(isProtectedProp({ ns: DAV_NS, name: 'displayname' }), false);
    assert.equal(isProtectedProp({ ns: 'urn:x', name: 'getetag' }), false);
  });

  it('lockdiscovery renders active locks that survive a multistatus round trip', async () => {
    const lock = { token: 'urn:uuid:1', scope: 'exclusive' as const, depth: 'infinity' as const, ownerXml: '<D:href xmlns:D="DAV:">me</D:href>', timeoutSec: 99.7, rootHref: '/docs/' };
    assert.match(activeLockXml(lock), /<D:timeout>Second-99<\/D:timeout>/);
    assert.match(activeLockXml({ ...lock, timeoutSec: 'infinite', ownerXml: null }), /<D:timeout>Infinite<\/D:timeout><D:locktoken>/);
    const ps = propfindPropstats({ kind: 'prop', props: [{ ns: DAV_NS, name: 'lockdiscovery' }, { ns: DAV_NS, name: 'supportedlock' }] }, dir, { locks: [lock] }, []);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new MultistatusWriter(out);
    await w.write({ href: '/docs/', propstats: ps });
    await w.end();
    const root = parseXmlDocument(Buffer.concat(chunks));
    assert.ok(root !== null);
    const find = (e: XElement, local: string): XElement | undefined => {
      for (const c of e.children) {
        if (c.kind !== 'element') continue;
        if (c.local === local) return c;
        const deeper = find(c, local);
        if (deeper !== undefined) return deeper;
      }
      return undefined;
    };
    const owner = find(root, 'owner');
    assert.ok(owner !== undefined && find(owner, 'href') !== undefined);
    assert.ok(find(root, 'lockroot') !== undefined);
    assert.equal(find(root, 'supportedlock')?.children.length, 2);
  });
});
