import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { escapeHtml, type ListingEntry, parseListingQuery, writeListing } from '../../../src/protocols/webdav/listing.js';

class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  drains = 0;
  constructor(slow = false) {
    super({ highWaterMark: slow ? 256 : 16 * 1024 });
    this.on('drain', () => this.drains++);
    this.slow = slow;
  }
  readonly slow: boolean;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    if (this.slow) setImmediate(cb);
    else cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

const entry = (name: string | Buffer, size: number, mtimeSec: number, isCollection = false): ListingEntry =>
  ({ name: typeof name === 'string' ? Buffer.from(name) : name, size, mtimeSec, isCollection });

const rowNames = (html: string): string[] => [...html.matchAll(/<tr><td><a href="([^"]*)">/g)].map((m) => m[1] ?? '');

describe('webdav listing', () => {
  it('escapes hostile names in text and links: no markup, no javascript: URL', async () => {
    const sink = new Sink();
    await writeListing(sink, [
      entry('<script>alert(1)</script>', 1, 0),
      entry('"quoted" & \'single\'.txt', 2, 0),
      entry('javascript:alert(1)', 3, 0),
      entry('<img src=x onerror=alert(1)>', 4, 0, true),
    ], { title: '/<b>dir</b>/', hasParent: true, order: { sort: null, order: 'asc' } });
    const html = sink.text();
    assert.ok(!/<script/i.test(html));
    assert.ok(!/<img/i.test(html));
    assert.ok(!html.includes('<b>dir'));
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('&#34;quoted&#34; &#38; &#39;single&#39;.txt'));
    assert.deepEqual(rowNames(html), [
      '../',
      './%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      './%22quoted%22%20&#38;%20&#39;single&#39;.txt',
      './javascript%3Aalert(1)',
      './%3Cimg%20src=x%20onerror=alert(1)%3E/',
    ]);
  });

  it('shows non-UTF-8 names percent-escaped and links to their exact bytes', async () => {
    const sink = new Sink();
    await writeListing(sink, [entry(Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x2e, 0x74]), 1, 0)], { title: '/', hasParent: false, order: { sort: null, order: 'asc' } });
    const html = sink.text();
    assert.ok(html.includes('>%C4%E3%BA%C3.t</a>'));
    assert.deepEqual(rowNames(html), ['./%C4%E3%BA%C3.t']);
    assert.ok(!html.includes('\ufffd'));
  });

  it('sorts by size or mtime, ascending or descending, with toggling header links', async () => {
    const entries = [entry('b', 300, 20), entry('a', 100, 30), entry('c', 200, 10)];
    const run = async (sort: 'name' | 'size' | 'mtime', order: 'asc' | 'desc'): Promise<string> => {
      const sink = new Sink();
      await writeListing(sink, entries, { title: '/', hasParent: false, order: { sort, order } });
      return sink.text();
    };
    assert.deepEqual(rowNames(await run('name', 'asc')), ['./a', './b', './c']);
    assert.deepEqual(rowNames(await run('size', 'desc')), ['./b', './c', './a']);
    assert.deepEqual(rowNames(await run('mtime', 'asc')), ['./c', './b', './a']);
    const html = await run('size', 'asc');
    assert.ok(html.includes('<a href="?sort=size&amp;order=desc">Size'));
    assert.ok(html.includes('<a href="?sort=name&amp;order=asc">Name</a>'));
  });

  it('streams unsorted rows with backpressure, and falls back to unsorted above the sort limit', async () => {
    async function* many(n: number): AsyncGenerator<ListingEntry> {
      for (let i = 0; i < n; i++) yield entry(`file-${String(n - i).padStart(5, '0')}`, i, i);
    }
    const slow = new Sink(true);
    await writeListing(slow, many(2000), { title: '/', hasParent: false, order: { sort: null, order: 'asc' } });
    assert.equal(rowNames(slow.text()).length, 2000);
    assert.ok(slow.drains > 0);

    const capped = new Sink();
    await writeListing(capped, many(50), { title: '/', hasParent: false, order: { sort: 'name', order: 'asc' }, maxSortedEntries: 10 });
    const html = capped.text();
    assert.equal(rowNames(html).length, 50);
    assert.equal(rowNames(html)[0], './file-00050', 'arrival order kept');
    assert.ok(html.includes('More than 10 entries: shown unsorted.'));
  });

  it('parses the sort query with safe defaults', () => {
    assert.deepEqual(parseListingQuery('?sort=size&order=desc'), { sort: 'size', order: 'desc' });
    assert.deepEqual(parseListingQuery('sort=mtime'), { sort: 'mtime', order: 'asc' });
    assert.deepEqual(parseListingQuery('?sort=<x>&order=sideways'), { sort: null, order: 'asc' });
    assert.equal(escapeHtml('<>&"\''), '&#60;&#62;&#38;&#34;&#39;');
  });
});
