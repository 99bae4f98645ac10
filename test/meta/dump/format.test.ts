import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { DumpWriter } from '../../../src/meta/dump/format.js';
import type { DumpHeader } from '../../../src/meta/dump/model.js';
import { readDump } from '../../../src/meta/dump/reader.js';

export const FIXTURES = '/work/shared/fixtures/juicefs';

/** Reads a dump and writes it back through DumpWriter. */
async function rewrite(input: Buffer, chunkBytes?: number, bufferBytes?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { parts.push(chunk); cb(); } });
  const w = new DumpWriter(out, bufferBytes === undefined ? {} : { bufferBytes });
  let source: Buffer | PassThrough = input;
  if (chunkBytes !== undefined) {
    const pt = new PassThrough();
    for (let i = 0; i < input.length; i += chunkBytes) pt.write(input.subarray(i, i + chunkBytes));
    pt.end();
    source = pt;
  }
  await readDump(source, {
    header: (h) => w.header(h),
    enterDir: (name, e, tree) => (name === null ? w.beginTree(tree, e) : w.beginDir(name, e)),
    leaf: (name, e) => w.leaf(name, e),
    leaveDir: () => w.endDir(),
  });
  await w.finish();
  return Buffer.concat(parts);
}

describe('dump writer layout (spec §H.4)', () => {
  for (const file of ['metadata.sample.json', 'metadata-sub.sample.json']) {
    it(`reads and rewrites ${file} byte for byte`, async () => {
      const input = readFileSync(`${FIXTURES}/${file}`);
      const out = await rewrite(input);
      assert.equal(out.toString('utf8'), input.toString('utf8'));
      assert.ok(out.equals(input));
    });
  }

  it('produces the same bytes when the input arrives in 7-byte chunks and the writer flushes every 100 bytes', async () => {
    const input = readFileSync(`${FIXTURES}/metadata.sample.json`);
    const out = await rewrite(input, 7, 100);
    assert.ok(out.equals(input));
  });

  it('waits for drain when the destination pushes back, and resumes after it', async () => {
    let header: DumpHeader | null = null;
    await readDump(readFileSync(`${FIXTURES}/metadata.sample.json`), {
      header: (h) => { header = h; },
      enterDir: () => undefined,
      leaf: () => undefined,
      leaveDir: () => undefined,
    });
    assert.ok(header !== null);
    const pending: (() => void)[] = [];
    const parts: Buffer[] = [];
    const out = new Writable({ highWaterMark: 1, write(chunk: Buffer, _enc, cb) { parts.push(chunk); pending.push(cb); } });
    const w = new DumpWriter(out, { bufferBytes: 1 });
    let written = false;
    const p = w.header(header).then(() => { written = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(written, false, 'header() is still waiting for drain');
    assert.equal(parts.length, 1);
    pending.shift()?.();
    await p;
    assert.equal(written, true);
    assert.match(parts[0]?.toString() ?? '', /^\{\n {2}"Setting": \{/);
  });
});
