import assert from 'node:assert/strict';
import {
  DEAD_PROPS_XATTR, decodeDeadProps, encodeDeadProps, planProppatch,
} from '../../../src/protocols/webdav/dead-props.js';
import { isProtectedProp } from '../../../src/protocols/webdav/props.js';
import { HttpError } from '../../../src/protocols/webdav/status.js';
import { parseProppatch } from '../../../src/protocols/webdav/xml/parse.js';
import { DAV_NS, type DeadProp, MS_NS } from '../../../src/protocols/webdav/xml/types.js';

const WINDOWS_PROPPATCH = '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">'
  + '<D:set><D:prop><Z:Win32CreationTime>Thu, 01 Jan 2015 12:00:00 GMT</Z:Win32CreationTime>'
  + '<Z:Win32LastAccessTime>Fri, 02 Jan 2015 12:00:00 GMT</Z:Win32LastAccessTime>'
  + '<Z:Win32LastModifiedTime>Fri, 02 Jan 2015 12:00:00 GMT</Z:Win32LastModifiedTime>'
  + '<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>';

describe('webdav dead properties: xattr encoding', () => {
  it('is the JSON that juicefs webdav writes, under its xattr name', () => {
    assert.equal(DEAD_PROPS_XATTR, 'webdav-dead-props');
    const v = encodeDeadProps([{ ns: 'urn:x', name: 'color', lang: 'en', innerXml: 'red' }]);
    assert.deepEqual(JSON.parse(v.toString()), [{
      name: { Space: 'urn:x', Local: 'color' },
      property: { XMLName: { Space: 'urn:x', Local: 'color' }, Lang: 'en', InnerXML: Buffer.from('red').toString('base64') },
    }]);
  });

  it('round-trips values with markup, unicode, lang and the no-namespace case', () => {
    const props: DeadProp[] = [
      { ns: 'http://ns.example.com/z/', name: 'Authors', lang: null, innerXml: '<Z:Author xmlns:Z="http://ns.example.com/z/">Jim &amp; 日本</Z:Author>' },
      { ns: '', name: 'nons', lang: 'de', innerXml: '' },
      { ns: DAV_NS, name: 'displayname', lang: null, innerXml: 'x &lt; y' },
    ];
    assert.deepEqual(decodeDeadProps(encodeDeadProps(props)), { props, invalid: 0 });
  });

  it('a PROPPATCH from Windows stores and decodes its Win32* properties', () => {
    const ops = parseProppatch(WINDOWS_PROPPATCH).ops;
    const plan = planProppatch([], ops, isProtectedProp);
    assert.ok(plan.ok);
    const back = decodeDeadProps(encodeDeadProps(plan.props));
    assert.deepEqual(back.props.map((p) => [p.ns, p.name, p.innerXml]), [
      [MS_NS, 'Win32CreationTime', 'Thu, 01 Jan 2015 12:00:00 GMT'],
      [MS_NS, 'Win32LastAccessTime', 'Fri, 02 Jan 2015 12:00:00 GMT'],
      [MS_NS, 'Win32LastModifiedTime', 'Fri, 02 Jan 2015 12:00:00 GMT'],
      [MS_NS, 'Win32FileAttributes', '00000020'],
    ]);
  });

  it('reads a value as Go\'s encoder writes it (InnerXML with its own xmlns, null Lang fields)', () => {
    const goJson = JSON.stringify([
      { name: { Space: 'urn:x', Local: 'a' }, property: { XMLName: { Space: 'urn:x', Local: 'a' }, Lang: '', InnerXML: Buffer.from('<b xmlns="urn:x">1</b>').toString('base64') } },
      { name: { Space: 'urn:x', Local: 'empty' }, property: { XMLName: { Space: 'urn:x', Local: 'empty' }, Lang: '', InnerXML: null } },
    ]);
    assert.deepEqual(decodeDeadProps(Buffer.from(goJson)), {
      props: [
        { ns: 'urn:x', name: 'a', lang: null, innerXml: '<b xmlns="urn:x">1</b>' },
        { ns: 'urn:x', name: 'empty', lang: null, innerXml: '' },
      ],
      invalid: 0,
    });
  });

  it('drops entries that could break a response: bad XML, unbound prefixes, bad names, duplicates', () => {
    const entry = (local: string, inner: string): unknown => ({
      name: { Space: 'urn:x', Local: local },
      property: { XMLName: { Space: 'urn:x', Local: local }, Lang: '', InnerXML: Buffer.from(inner).toString('base64') },
    });
    const value = Buffer.from(JSON.stringify([
      entry('ok', 'fine'),
      entry('unclosed', '<a>'),
      entry('unbound', '<p:a/>'),
      entry('bad name', 'x'),
      entry('inject', '</ferry-w:inject><evil/><ferry-w:inject>'),
      entry('doctype', '<!DOCTYPE x>'),
      entry('ok', 'again'),
      { name: 'not an object' },
      42,
    ]));
    const got = decodeDeadProps(value);
    assert.deepEqual(got.props, [{ ns: 'urn:x', name: 'ok', lang: null, innerXml: 'fine' }]);
    assert.equal(got.invalid, 8);
    assert.deepEqual(decodeDeadProps(Buffer.from('{not json')), { props: [], invalid: 1 });
    assert.deepEqual(decodeDeadProps(Buffer.from('{}')), { props: [], invalid: 1 });
  });

  it('refuses to encode more than the xattr limit with 507', () => {
    const big = [{ ns: 'urn:x', name: 'big', lang: null, innerXml: 'x'.repeat(60_000) }];
    assert.throws(() => encodeDeadProps(big), (e: unknown) => e instanceof HttpError && e.status === 507 && e.code === 'DEAD_PROPS_TOO_LARGE');
    assert.ok(encodeDeadProps(big, 1 << 20).length > 60_000);
  });
});

describe('webdav dead properties: PROPPATCH planning', () => {
  const current: DeadProp[] = [
    { ns: 'urn:x', name: 'a', lang: null, innerXml: '1' },
    { ns: 'urn:x', name: 'b', lang: null, innerXml: '2' },
  ];

  it('applies set and remove in document order; set keeps position, new ones go last', () => {
    const ops = parseProppatch(`<D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x">
      <D:set><D:prop><x:c>3</x:c><x:a>1b</x:a></D:prop></D:set>
      <D:remove><D:prop><x:b/><x:never/></D:prop></D:remove>
      <D:set><D:prop><x:b>2b</x:b></D:prop></D:set></D:propertyupdate>`).ops;
    const plan = planProppatch(current, ops, isProtectedProp);
    assert.ok(plan.ok);
    assert.deepEqual(plan.props.map((p) => `${p.name}=${p.innerXml}`), ['a=1b', 'c=3', 'b=2b']);
    assert.deepEqual(plan.results.map((r) => r.status), [200, 200, 200, 200, 200]);
  });

  it('a protected property fails the whole request: 403 for it, 424 for the rest', () => {
    const ops = parseProppatch(`<D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x">
      <D:set><D:prop><x:c>3</x:c><D:getetag>"forged"</D:getetag></D:prop></D:set>
      <D:remove><D:prop><x:a/></D:prop></D:remove></D:propertyupdate>`).ops;
    const plan = planProppatch(current, ops, isProtectedProp);
    assert.equal(plan.ok, false);
    assert.deepEqual(plan.results, [
      { name: { ns: 'urn:x', name: 'c' }, status: 424 },
      { name: { ns: DAV_NS, name: 'getetag' }, status: 403, error: { name: 'cannot-modify-protected-property' } },
      { name: { ns: 'urn:x', name: 'a' }, status: 424 },
    ]);
  });
});
