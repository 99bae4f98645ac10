import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { WriteAbortedError } from '../../../src/protocols/webdav/backpressure.js';
import { encodeHref } from '../../../src/protocols/webdav/href.js';
import { MultistatusWriter } from '../../../src/protocols/webdav/xml/build.js';
import { parseXmlDocument, type XElement } from '../../../src/protocols/webdav/xml/parse.js';
import { DAV_NS } from '../../../src/protocols/webdav/xml/types.js';

/** A Writable that accepts one chunk per event-loop turn and records how full it got. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  maxBuffered = 0;
  drains = 0;

  constructor() {
    super({ highWaterMark: 1024 });
    this.on('drain', () => this.drains++);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    this.chunks.push(chunk);
    setImmediate(cb);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const els = (e: XElement, ns: string, local: string): XElement[] =>
  e.children.filter((c): c is XElement => c.kind === 'element' && c.ns === ns && c.local === local);
const textOf = (e: XElement | undefined): string =>
  (e?.children ?? []).map((c) => (c.kind === 'text' ? c.text : textOf(c))).join('');

describe('webdav xml/build: MultistatusWriter', () => {
  it('writes a well-formed multistatus with propstats, status responses and conditions', async () => {
    const sink = new SlowSink();
    const w = new MultistatusWriter(sink);
    await w.write({
      href: '/a%20b/',
      propstats: [
        { status: 200, props: [{ ns: DAV_NS, name: 'getcontentlength', value: { kind: 'text', text: '12' } }, { ns: DAV_NS, name: 'resourcetype', value: { kind: 'xml', xml: '<D:collection/>' } }] },
        { status: 404, props: [{ ns: 'urn:x', name: 'missing' }] },
      ],
    });
    await w.write({ hrefs: ['/locked'], status: 423, error: { name: 'lock-token-submitted', hrefs: ['/locked'] } });
    await w.end();
    const root = parseXmlDocument(sink.text());
    assert.ok(root !== null);
    assert.equal(root.ns, DAV_NS);
    assert.equal(root.local, 'multistatus');
    const responses = els(root, DAV_NS, 'response');
    assert.equal(responses.length, 2);
    const [first, second] = responses;
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(textOf(els(first, DAV_NS, 'href')[0]), '/a%20b/');
    const propstats = els(first, DAV_NS, 'propstat');
    assert.deepEqual(propstats.map((p) => textOf(els(p, DAV_NS, 'status')[0])), ['HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found']);
    const missing = els(els(propstats[1] as XElement, DAV_NS, 'prop')[0] as XElement, 'urn:x', 'missing');
    assert.equal(missing.length, 1, 'dead-property namespace must be declared and resolvable');
    assert.equal(textOf(els(second, DAV_NS, 'status')[0]), 'HTTP/1.1 423 Locked');
    assert.equal(els(els(second, DAV_NS, 'error')[0] as XElement, DAV_NS, 'lock-token-submitted').length, 1);
  });

  it('escapes hrefs and text, including markup, ampersands and control characters', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const w = new MultistatusWriter(sink);
    const nasty = Buffer.from('<script>&"\x01\x1f\r.txt');
    const href = encodeHref([nasty], false);
    await w.write({
      href,
      propstats: [{ status: 200, props: [{ ns: DAV_NS, name: 'displayname', value: { kind: 'text', text: 'a<b>&c\x07\r' } }] }],
      description: '<&>',
    });
    await w.end('done & dusted');
    const xml = Buffer.concat(chunks).toString();
    assert.ok(!xml.includes('<script>'));
    assert.ok(!xml.includes('\x01') && !xml.includes('\x07'));
    const root = parseXmlDocument(xml);
    assert.ok(root !== null);
    const resp = els(root, DAV_NS, 'response')[0] as XElement;
    assert.equal(textOf(els(resp, DAV_NS, 'href')[0]), href);
    assert.equal(href, '/%3Cscript%3E&%22%01%1F%0D.txt');
    const dn = els(els(els(resp, DAV_NS, 'propstat')[0] as XElement, DAV_NS, 'prop')[0] as XElement, DAV_NS, 'displayname')[0];
    assert.equal(textOf(dn), 'a<b>&c\uFFFD\r', 'CR survives as a character reference; invalid chars become U+FFFD');
    assert.equal(textOf(els(root, DAV_NS, 'responsedescription')[0]), 'done & dusted');
  });

  it('dead properties get a declared prefix, xml:lang and their stored inner XML', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    const w = new MultistatusWriter(sink);
    await w.write({
      href: '/f',
      propstats: [{
        status: 200,
        props: [
          { ns: 'http://ns.example.com/z/', name: 'Authors', lang: 'en', value: { kind: 'xml', xml: '<Z:Author xmlns:Z="http://ns.example.com/z/">Jim</Z:Author>' } },
          { ns: 'urn:schemas-microsoft-com:', name: 'Win32FileAttributes', value: { kind: 'xml', xml: '00000020' } },
          { ns: '', name: 'nons', value: { kind: 'text', text: 'v' } },
        ],
      }],
    });
    await w.end();
    const xml = Buffer.concat(chunks).toString();
    assert.match(xml, /<ns0:Authors xmlns:ns0="http:\/\/ns.example.com\/z\/" xml:lang="en">/);
    assert.match(xml, /<Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:">00000020<\/Z:Win32FileAttributes>/);
    const root = parseXmlDocument(xml);
    assert.ok(root !== null);
    const prop = els(els(els(root, DAV_NS, 'response')[0] as XElement, DAV_NS, 'propstat')[0] as XElement, DAV_NS, 'prop')[0] as XElement;
    const authors = els(prop, 'http://ns.example.com/z/', 'Authors')[0];
    assert.ok(authors !== undefined);
    assert.equal(authors.lang, 'en');
    assert.equal(textOf(els(authors, 'http://ns.example.com/z/', 'Author')[0]), 'Jim');
    assert.equal(els(prop, '', 'nons').length, 1);
  });

  it('waits for drain on a slow destination instead of buffering the whole document', async () => {
    const sink = new SlowSink();
    const flushBytes = 2048;
    const w = new MultistatusWriter(sink, { flushBytes });
    const n = 3000;
    let maxSeen = 0;
    for (let i = 0; i < n; i++) {
      await w.write({ href: `/dir/file-${i}`, propstats: [{ status: 200, props: [{ ns: DAV_NS, name: 'getcontentlength', value: { kind: 'text', text: String(i) } }] }] });
      maxSeen = Math.max(maxSeen, sink.writableLength);
    }
    await w.end();
    await new Promise<void>((resolve) => sink.end(resolve));
    assert.ok(sink.drains > 0, 'the writer must have waited for drain');
    // At most one batch (plus one response) beyond the sink's own high-water mark is ever queued.
    assert.ok(maxSeen <= 1024 + flushBytes + 512, `queued ${maxSeen} bytes`);
    assert.ok(sink.maxBuffered <= 1024 + flushBytes + 512);
    const root = parseXmlDocument(sink.text());
    assert.ok(root !== null);
    assert.equal(els(root, DAV_NS, 'response').length, n);
  });

  it('a destination that closes mid-document rejects the pending write', async () => {
    const sink = new Writable({ highWaterMark: 16, write(_c, _e, _cb) { /* never completes */ } });
    const w = new MultistatusWriter(sink, { flushBytes: 1 });
    const pending = w.write({ hrefs: ['/x'], status: 404 });
    sink.destroy();
    await assert.rejects(pending, WriteAbortedError);
    await assert.rejects(w.write({ hrefs: ['/y'], status: 404 }), WriteAbortedError);
  });

  it('an aborted signal stops a write waiting for drain', async () => {
    const sink = new Writable({ highWaterMark: 16, write(_c, _e, _cb) { /* never completes */ } });
    const ac = new AbortController();
    const w = new MultistatusWriter(sink, { flushBytes: 1, signal: ac.signal });
    const pending = w.write({ hrefs: ['/x'], status: 404 });
    ac.abort();
    await assert.rejects(pending, WriteAbortedError);
    assert.equal(sink.listenerCount('drain'), 0, 'listeners are removed');
    sink.destroy();
  });
});
