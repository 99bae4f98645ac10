import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { HttpError } from '../../../src/protocols/webdav/status.js';
import {
  isValidDeadProp, MAX_XML_DEPTH, parseLockInfo, parsePropfind, parseProppatch, parseXmlDocument, readBody,
} from '../../../src/protocols/webdav/xml/parse.js';
import { DAV_NS, MS_NS } from '../../../src/protocols/webdav/xml/types.js';

function rejects(fn: () => unknown, code: string, status: number): HttpError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">&lol9;</x></D:prop></D:set></D:propertyupdate>`;

describe('webdav xml/parse: hostile and malformed bodies', () => {
  it('a DOCTYPE is refused with 400 and the no-external-entities condition', () => {
    const err = rejects(() => parsePropfind('<!DOCTYPE propfind><propfind xmlns="DAV:"><allprop/></propfind>'), 'XML_DOCTYPE_FORBIDDEN', 400);
    assert.deepEqual(err.condition, { name: 'no-external-entities' });
  });

  it('billion laughs is refused before any entity is defined', () => {
    rejects(() => parseProppatch(BILLION_LAUGHS), 'XML_DOCTYPE_FORBIDDEN', 400);
    rejects(() => parseProppatch(Buffer.from(BILLION_LAUGHS)), 'XML_DOCTYPE_FORBIDDEN', 400);
  });

  it('an external entity (XXE) and a bare ENTITY declaration are refused', () => {
    rejects(() => parsePropfind('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><propfind xmlns="DAV:"><prop><x>&x;</x></prop></propfind>'), 'XML_DOCTYPE_FORBIDDEN', 400);
    rejects(() => parsePropfind('<propfind xmlns="DAV:"><!ENTITY x "y"><allprop/></propfind>'), 'XML_DOCTYPE_FORBIDDEN', 400);
    rejects(() => parsePropfind('<!doctype propfind><propfind xmlns="DAV:"><allprop/></propfind>'), 'XML_DOCTYPE_FORBIDDEN', 400);
  });

  it('an undefined entity reference is malformed, not expanded', () => {
    rejects(() => parsePropfind('<propfind xmlns="DAV:"><prop><x xmlns="urn:x">&lol;</x></prop></propfind>'), 'XML_MALFORMED', 400);
  });

  it('malformed XML, unbound prefixes and trailing garbage are 400 XML_MALFORMED', () => {
    for (const body of [
      '<propfind xmlns="DAV:"><allprop></propfind>',
      '<D:propfind><D:allprop/></D:propfind>',
      '<propfind xmlns="DAV:"><allprop/></propfind><extra/>',
      '<propfind xmlns="DAV:" a="1" a="2"><allprop/></propfind>',
      'not xml at all',
      '<propfind xmlns="DAV:"><allprop/>',
    ]) rejects(() => parsePropfind(body), 'XML_MALFORMED', 400);
  });

  it('invalid UTF-8 is 400 and an unknown declared encoding is refused', () => {
    const bad = Buffer.concat([Buffer.from('<propfind xmlns="DAV:"><prop><x xmlns="urn:'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('"/></prop></propfind>')]);
    rejects(() => parsePropfind(bad), 'XML_MALFORMED', 400);
    rejects(() => parsePropfind(Buffer.from('<?xml version="1.0" encoding="EBCDIC-FOO"?><propfind xmlns="DAV:"><allprop/></propfind>')), 'XML_ENCODING_UNSUPPORTED', 400);
  });

  it('nesting deeper than the limit is 400 XML_TOO_DEEP', () => {
    const depth = MAX_XML_DEPTH + 5;
    const body = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</x></D:prop></D:set></D:propertyupdate>`;
    rejects(() => parseProppatch(body), 'XML_TOO_DEEP', 400);
  });

  it('a UTF-16 body with a BOM is decoded', () => {
    const text = '<?xml version="1.0" encoding="UTF-16"?><propfind xmlns="DAV:"><propname/></propfind>';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    assert.deepEqual(parsePropfind(le), { kind: 'propname' });
  });
});

describe('webdav xml/parse: body size limit', () => {
  it('a Content-Length above the limit is 413 before any byte is read', async () => {
    let reads = 0;
    const stream = new Readable({ read() { reads++; this.push(null); } });
    await assert.rejects(readBody(stream, 100, '101'), (e: unknown) => e instanceof HttpError && e.status === 413 && e.code === 'BODY_TOO_LARGE');
    assert.equal(reads, 0);
  });

  it('a body growing past the limit without Content-Length is 413', async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64, 0x61));
    await assert.rejects(readBody(Readable.from(chunks), 1000), (e: unknown) => e instanceof HttpError && e.status === 413);
  });

  it('a body within the limit is returned whole', async () => {
    const body = await readBody(Readable.from([Buffer.from('<a'), Buffer.from('/>')]), 4, '4');
    assert.equal(body.toString(), '<a/>');
  });
});

describe('webdav xml/parse: PROPFIND', () => {
  it('an empty body means allprop', () => {
    assert.deepEqual(parsePropfind(Buffer.alloc(0)), { kind: 'allprop', include: [] });
    assert.deepEqual(parsePropfind('  \r\n'), { kind: 'allprop', include: [] });
  });

  it('prop names resolve through a default namespace and odd prefixes', () => {
    const body = `<?xml version="1.0" encoding="utf-8"?>
      <propfind xmlns="DAV:" xmlns:zz9="http://example.com/ns/">
        <prop><getetag/><zz9:color/><resourcetype/><lang xmlns="urn:other"/><nons xmlns=""/></prop>
      </propfind>`;
    assert.deepEqual(parsePropfind(body), {
      kind: 'prop',
      props: [
        { ns: DAV_NS, name: 'getetag' },
        { ns: 'http://example.com/ns/', name: 'color' },
        { ns: DAV_NS, name: 'resourcetype' },
        { ns: 'urn:other', name: 'lang' },
        { ns: '', name: 'nons' },
      ],
    });
  });

  it('the DAV: namespace may be bound to any prefix', () => {
    const body = '<Q:propfind xmlns:Q="DAV:"><Q:prop><Q:getcontentlength/><Q:getcontentlength/></Q:prop></Q:propfind>';
    assert.deepEqual(parsePropfind(body), { kind: 'prop', props: [{ ns: DAV_NS, name: 'getcontentlength' }] });
  });

  it('allprop with include, and propname', () => {
    const body = '<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:quota-used-bytes/></D:include></D:propfind>';
    assert.deepEqual(parsePropfind(body), { kind: 'allprop', include: [{ ns: DAV_NS, name: 'quota-used-bytes' }] });
    assert.deepEqual(parsePropfind('<propfind xmlns="DAV:"><propname/></propfind>'), { kind: 'propname' });
  });

  it('unknown elements are ignored; a wrong root or two modes is 400', () => {
    assert.deepEqual(parsePropfind('<propfind xmlns="DAV:"><x:ext xmlns:x="urn:x"/><propname/></propfind>'), { kind: 'propname' });
    rejects(() => parsePropfind('<propfind xmlns="urn:not-dav"><allprop/></propfind>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parsePropfind('<propfind xmlns="DAV:"><allprop/><propname/></propfind>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parsePropfind('<propfind xmlns="DAV:"/>'), 'XML_INVALID_REQUEST', 400);
  });
});

describe('webdav xml/parse: PROPPATCH', () => {
  it('keeps set/remove operations in document order', () => {
    const body = `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/">
      <D:set><D:prop><Z:a>1</Z:a></D:prop></D:set>
      <D:remove><D:prop><Z:b/></D:prop></D:remove>
      <D:set><D:prop><Z:c>3</Z:c><Z:d>4</Z:d></D:prop></D:set>
    </D:propertyupdate>`;
    const { ops } = parseProppatch(body);
    assert.deepEqual(ops.map((o) => `${o.op}:${o.op === 'set' ? o.prop.name : o.name.name}`), ['set:a', 'remove:b', 'set:c', 'set:d']);
  });

  it('a value with child elements is stored self-contained, re-declaring outer prefixes', () => {
    const body = `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ns.example.com/z/" xmlns="urn:default">
      <D:set><D:prop><Z:Authors><Z:Author a="x&amp;y" Z:role="lead">Jim &amp; &lt;Roy&gt;</Z:Author><plain/><![CDATA[<raw>]]></Z:Authors></D:prop></D:set>
    </D:propertyupdate>`;
    const [op] = parseProppatch(body).ops;
    assert.ok(op !== undefined && op.op === 'set');
    assert.equal(op.prop.ns, 'http://ns.example.com/z/');
    assert.equal(op.prop.name, 'Authors');
    assert.equal(op.prop.innerXml,
      '<Z:Author a="x&amp;y" Z:role="lead" xmlns:Z="http://ns.example.com/z/">Jim &amp; &lt;Roy&gt;</Z:Author>'
      + '<plain xmlns="urn:default"/>&lt;raw&gt;');
    assert.ok(isValidDeadProp(op.prop), 'stored value must parse on its own');
  });

  it('an unprefixed child in no namespace gets xmlns="" so it cannot inherit one later', () => {
    const body = '<propertyupdate xmlns="DAV:"><set><prop><p xmlns="urn:p"><q xmlns=""><r/></q></p></prop></set></propertyupdate>';
    const [op] = parseProppatch(body).ops;
    assert.ok(op?.op === 'set');
    assert.equal(op.prop.innerXml, '<q xmlns=""><r/></q>');
  });

  it('xml:lang on the property or inherited from DAV:prop is kept', () => {
    const body = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop xml:lang="de">
      <t xmlns="urn:t">Hallo</t><u xmlns="urn:t" xml:lang="en-US">Hi <b xml:lang="fr">salut</b></u></D:prop></D:set></D:propertyupdate>`;
    const sets = parseProppatch(body).ops.filter((o) => o.op === 'set');
    assert.deepEqual(sets.map((o) => (o.op === 'set' ? [o.prop.name, o.prop.lang, o.prop.innerXml] : [])), [
      ['t', 'de', 'Hallo'],
      ['u', 'en-US', 'Hi <b xml:lang="fr" xmlns="urn:t">salut</b>'],
    ]);
  });

  it('Win32* properties from Windows are ordinary dead properties', () => {
    const body = '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">'
      + '<D:set><D:prop><Z:Win32CreationTime>Thu, 01 Jan 2015 12:00:00 GMT</Z:Win32CreationTime>'
      + '<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>';
    const sets = parseProppatch(body).ops;
    assert.deepEqual(sets, [
      { op: 'set', prop: { ns: MS_NS, name: 'Win32CreationTime', lang: null, innerXml: 'Thu, 01 Jan 2015 12:00:00 GMT' } },
      { op: 'set', prop: { ns: MS_NS, name: 'Win32FileAttributes', lang: null, innerXml: '00000020' } },
    ]);
  });

  it('no operation, or set without prop, is 400', () => {
    rejects(() => parseProppatch('<propertyupdate xmlns="DAV:"/>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parseProppatch('<propertyupdate xmlns="DAV:"><set/></propertyupdate>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parseProppatch(''), 'XML_INVALID_REQUEST', 400);
  });
});

describe('webdav xml/parse: LOCK', () => {
  it('exclusive write lock with an owner href kept as XML', () => {
    const body = `<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D='DAV:'>
      <D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>
      <D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner></D:lockinfo>`;
    assert.deepEqual(parseLockInfo(body), {
      scope: 'exclusive', type: 'write', ownerXml: '<D:href xmlns:D="DAV:">http://example.org/~ejw/contact.html</D:href>',
    });
  });

  it('shared lock without owner; empty body is a refresh', () => {
    assert.deepEqual(parseLockInfo('<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype></lockinfo>'), { scope: 'shared', type: 'write', ownerXml: null });
    assert.equal(parseLockInfo(Buffer.alloc(0)), null);
  });

  it('missing or unknown scope/type is 400', () => {
    rejects(() => parseLockInfo('<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope></lockinfo>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parseLockInfo('<lockinfo xmlns="DAV:"><lockscope><weird/></lockscope><locktype><write/></locktype></lockinfo>'), 'XML_INVALID_REQUEST', 400);
    rejects(() => parseLockInfo('<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><read/></locktype></lockinfo>'), 'XML_INVALID_REQUEST', 400);
  });
});

describe('webdav xml/parse: tree', () => {
  it('parseXmlDocument resolves element and attribute namespaces', () => {
    const root = parseXmlDocument('<a:x xmlns:a="urn:a" xmlns:b="urn:b" b:k="v" plain="p"><y/></a:x>');
    assert.ok(root !== null);
    assert.equal(root.ns, 'urn:a');
    assert.deepEqual(root.attrs.map((a) => [a.qname, a.ns, a.value]), [['b:k', 'urn:b', 'v'], ['plain', '', 'p']]);
    assert.equal(root.children[0]?.kind === 'element' ? root.children[0].ns : 'none', '');
  });
});
