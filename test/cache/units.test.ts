/** Unit tests of the cache's building blocks: memory tier LRU, the cache file format, singleflight. */
import assert from 'node:assert/strict';
import { open, readFile, truncate, writeFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { CorruptCacheFile, encodeTrailer, fileSizeFor, PART_BYTES, readCacheFile } from '../../src/cache/cache-file.js';
import { MemoryTier } from '../../src/cache/memory-tier.js';
import { cacheMetrics } from '../../src/cache/metrics.js';
import { SingleFlight } from '../../src/cache/singleflight.js';
import { tmpDir } from '../helpers/tmp.js';
import { blockBytes } from './helpers.js';

describe('MemoryTier', function () {
  const bytes = (n: number): Buffer => Buffer.alloc(n, n);

  it('evicts the least recently used blocks to stay under its byte limit', function () {
    const tier = new MemoryTier(100, cacheMetrics(new Registry()));
    tier.put('a', bytes(40));
    tier.put('b', bytes(40));
    assert.ok(tier.get('a'), 'a is now the most recently used');
    tier.put('c', bytes(40));
    assert.equal(tier.has('b'), false, 'b was the least recently used');
    assert.equal(tier.has('a'), true);
    assert.equal(tier.has('c'), true);
    assert.equal(tier.usedBytes, 80);
    tier.put('d', bytes(100));
    assert.deepEqual([tier.has('a'), tier.has('c'), tier.has('d')], [false, false, true], 'a block of exactly the limit evicts everything else');
  });

  it('does not keep a block larger than its limit, and accounts replacements', function () {
    const tier = new MemoryTier(100, cacheMetrics(new Registry()));
    tier.put('a', bytes(30));
    tier.put('big', bytes(101));
    assert.equal(tier.has('big'), false);
    assert.equal(tier.has('a'), true, 'a refused block evicts nothing');
    tier.put('a', bytes(50));
    assert.equal(tier.usedBytes, 50);
    assert.equal(tier.blockCount, 1);
    assert.equal(tier.delete('a'), true);
    assert.equal(tier.usedBytes, 0);
  });
});

describe('cache file format', function () {
  async function writeBlock(body: Buffer): Promise<string> {
    const path = `${tmpDir('ferry-cachefile-')}/block`;
    await writeFile(path, Buffer.concat([body, encodeTrailer(body)]));
    return path;
  }

  it('round-trips whole blocks and ranges, with ObjectStore short-read semantics', async function () {
    const body = blockBytes(1, 3 * PART_BYTES + 123);
    const path = await writeBlock(body);
    assert.equal((await readFile(path)).length, fileSizeFor(body.length));
    assert.deepEqual((await readCacheFile(path))?.data, body);
    for (const [offset, length] of [[0, 1], [PART_BYTES - 5, 10], [PART_BYTES, PART_BYTES], [3 * PART_BYTES + 100, 1000], [body.length, 5], [body.length + 10, 5], [7, 0]] as const) {
      assert.deepEqual((await readCacheFile(path, { offset, length }))?.data, body.subarray(offset, offset + length), `range ${offset}+${length}`);
    }
  });

  it('handles an empty block', async function () {
    const path = await writeBlock(Buffer.alloc(0));
    assert.deepEqual((await readCacheFile(path))?.data, Buffer.alloc(0));
  });

  it('returns undefined for a missing file', async function () {
    assert.equal(await readCacheFile(`${tmpDir()}/nope`), undefined);
  });

  it('detects a flipped byte, but only when the read touches its part', async function () {
    const body = blockBytes(2, 4 * PART_BYTES);
    const path = await writeBlock(body);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from([body.readUInt8(2 * PART_BYTES + 7) ^ 0xff]), 0, 1, 2 * PART_BYTES + 7);
    await fh.close();
    await assert.rejects(readCacheFile(path), CorruptCacheFile);
    await assert.rejects(readCacheFile(path, { offset: 2 * PART_BYTES + 100, length: 10 }), CorruptCacheFile);
    assert.deepEqual((await readCacheFile(path, { offset: 0, length: 2 * PART_BYTES }))?.data, body.subarray(0, 2 * PART_BYTES));
    assert.deepEqual((await readCacheFile(path, { offset: 3 * PART_BYTES, length: PART_BYTES }))?.data, body.subarray(3 * PART_BYTES));
  });

  it('detects truncated and extended files', async function () {
    const body = blockBytes(3, PART_BYTES + 1);
    const truncated = await writeBlock(body);
    await truncate(truncated, body.length);
    await assert.rejects(readCacheFile(truncated, { offset: 0, length: 1 }), CorruptCacheFile);
    const short = await writeBlock(body);
    await truncate(short, 5);
    await assert.rejects(readCacheFile(short), CorruptCacheFile);
    const extended = await writeBlock(body);
    await writeFile(extended, Buffer.alloc(1), { flag: 'a' });
    await assert.rejects(readCacheFile(extended), CorruptCacheFile);
  });
});

describe('SingleFlight', function () {
  it('runs one call for concurrent callers of a key and forgets it afterwards', async function () {
    const flights = new SingleFlight<number>();
    let calls = 0;
    let finish: (v: number) => void = () => undefined;
    const fn = (): Promise<number> => {
      calls++;
      return new Promise((resolve) => (finish = resolve));
    };
    const all = Promise.all([flights.do('k', fn), flights.do('k', fn), flights.do('k', fn, new AbortController().signal)]);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1);
    finish(7);
    assert.deepEqual(await all, [7, 7, 7]);
    assert.equal(flights.size, 0);
    await flights.do('k', async () => { calls++; return 1; });
    assert.equal(calls, 2);
  });

  it('lets one waiter abort without disturbing the others', async function () {
    const flights = new SingleFlight<string>();
    let sawAbort = false;
    let finish: (v: string) => void = () => undefined;
    const fn = (signal: AbortSignal): Promise<string> => new Promise((resolve) => {
      signal.addEventListener('abort', () => (sawAbort = true));
      finish = resolve;
    });
    const quitter = new AbortController();
    const stayer = new AbortController();
    const a = flights.do('k', fn, quitter.signal);
    const b = flights.do('k', fn, stayer.signal);
    quitter.abort(new Error('bye'));
    await assert.rejects(a, /bye/);
    await new Promise((r) => setImmediate(r));
    finish('ok');
    assert.equal(await b, 'ok');
    assert.equal(sawAbort, false);
  });

  it('aborts the shared call when every waiter has aborted, and starts afresh for the next caller', async function () {
    const flights = new SingleFlight<string>();
    let aborted = 0;
    const fn = (signal: AbortSignal): Promise<string> => new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        aborted++;
        reject(signal.reason);
      });
    });
    const ac = new AbortController();
    const p = flights.do('k', fn, ac.signal);
    await new Promise((r) => setImmediate(r));
    ac.abort(new Error('gone'));
    await assert.rejects(p, /gone/);
    assert.equal(aborted, 1);
    assert.equal(flights.has('k'), false);
    assert.equal(await flights.do('k', async () => 'fresh'), 'fresh');
  });
});
