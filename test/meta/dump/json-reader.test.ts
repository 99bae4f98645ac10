import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { JsonReader } from '../../../src/meta/dump/json-reader.js';
import { isFsError, Errno } from '../../../src/util/errno.js';

function chunked(text: string, size: number): Readable {
  const b = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts);
}

describe('streaming JSON reader', () => {
  it('keeps integers above 2^53 exact as bigint (trash inodes)', async () => {
    const r = new JsonReader(Buffer.from('{"a":9223372032828243969,"b":12,"c":-1.5}'));
    assert.deepEqual(await r.readValue(), { a: 9223372032828243969n, b: 12, c: -1.5 });
    await r.end();
  });

  it('decodes strings to the same bytes whatever the chunk boundaries, including \\u escapes and surrogate pairs', async () => {
    const text = '["果汁\\u0041\\n\\ud83d\\ude00\\"x\\\\", "\\ud800z"]';
    for (const size of [1, 2, 3, 5, 64]) {
      const r = new JsonReader(chunked(text, size));
      await r.beginArray();
      assert.ok(await r.nextItem());
      assert.deepEqual(await r.readStringBytes(), Buffer.from('果汁A\n😀"x\\'));
      assert.ok(await r.nextItem());
      assert.deepEqual(await r.readStringBytes(), Buffer.from('\ufffdz'));
      assert.equal(await r.nextItem(), false);
      await r.end();
    }
  });

  it('rejects malformed documents with EINVAL', async () => {
    for (const bad of ['{"a" 1}', '{"a":1,}', '[1 2]', '{"a":tru}', '"open', '{"a":01}', '{} x']) {
      const r = new JsonReader(Buffer.from(bad));
      await assert.rejects(async () => { await r.readValue(); await r.end(); }, (e: unknown) => isFsError(e, Errno.EINVAL), bad);
    }
  });
});
