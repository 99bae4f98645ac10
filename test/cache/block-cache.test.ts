import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { open, truncate } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { TieredBlockCache, type BlockCacheOptions } from '../../src/cache/block-cache.js';
import { fileSizeFor, PART_BYTES } from '../../src/cache/cache-file.js';
import { dirIndexFor } from '../../src/cache/local-fs.js';
import { FileObjectStore } from '../../src/storage/file.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { tmpDir } from '../helpers/tmp.js';
import { blockBytes, CountingStore, keyOf, recordingLogger, roomyStatfs, settableStatfs } from './helpers.js';

const UUID = '6f1c1d0e-3b7a-4f57-9a52-1d2f0c7e8a11';
const LEN = 4 * PART_BYTES; // 128 KiB blocks keep the suite quick
const FILE = fileSizeFor(LEN);

describe('TieredBlockCache (read path)', function () {
  const caches: TieredBlockCache[] = [];
  let backing: MemoryObjectStore;
  let store: CountingStore;

  beforeEach(function () {
    backing = new MemoryObjectStore();
    store = new CountingStore(backing);
  });

  afterEach(async function () {
    for (const c of caches.splice(0)) await c.close();
  });

  /** A cache with no memory tier (so the disk tier is what is tested) unless the test says otherwise. */
  async function openCache(opts: Partial<BlockCacheOptions> = {}): Promise<TieredBlockCache> {
    const cache = await TieredBlockCache.open({ store, volumeUuid: UUID, cacheDirs: [tmpDir('ferry-cache-')], memoryCacheBytes: 0, statfs: roomyStatfs, ...opts });
    caches.push(cache);
    return cache;
  }

  /** Puts blocks 1..n (LEN bytes each) into the backing store; returns their keys. */
  async function seed(n: number, len = LEN): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 1; i <= n; i++) {
      keys.push(keyOf(i, len));
      await backing.put(keyOf(i, len), blockBytes(i, len));
    }
    return keys;
  }

  /** Puts block 1 (LEN bytes) into `target`; returns its key. */
  async function seedOne(target: FileObjectStore): Promise<string> {
    await target.put(keyOf(1, LEN), blockBytes(1, LEN));
    return keyOf(1, LEN);
  }

  const rawPath = (dir: string, key: string): string => `${dir}/${UUID}/raw/${key}`;

  it('keeps a fetched block at <dir>/<uuid>/raw/<object key> and serves it without the store', async function () {
    const dir = tmpDir('ferry-cache-');
    const cache = await openCache({ cacheDirs: [dir] });
    const [key = ''] = await seed(1);
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN));
    await cache.settle();
    assert.ok(existsSync(rawPath(dir, key)));
    assert.deepEqual(cache.stats(), { memoryBlocks: 0, memoryBytes: 0, diskBlocks: 1, diskBytes: FILE, pendingUploads: 0 });
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN));
    assert.equal(store.gets(key), 1);
  });

  it('serves repeated reads from the memory tier', async function () {
    const cache = await openCache({ memoryCacheBytes: 10 * LEN });
    const [key = ''] = await seed(1);
    await cache.get(key);
    await cache.settle();
    assert.deepEqual(await cache.get(key, { offset: 5, length: 10 }), blockBytes(1, LEN).subarray(5, 15));
    assert.equal(store.gets(key), 1);
    assert.equal(cache.stats().memoryBlocks, 1);
  });

  it('spreads blocks over several cache dirs by a hash of the key', async function () {
    const dirs = [tmpDir('ferry-cache-a-'), tmpDir('ferry-cache-b-'), tmpDir('ferry-cache-c-')];
    const cache = await openCache({ cacheDirs: dirs });
    const keys = await seed(12, 1000);
    for (const key of keys) await cache.get(key);
    await cache.settle();
    const used = new Set<number>();
    for (const key of keys) {
      const holders = dirs.filter((d) => existsSync(rawPath(d, key)));
      assert.deepEqual(holders, [dirs[dirIndexFor(key, dirs.length)]], `${key} is in exactly its hashed dir`);
      used.add(dirIndexFor(key, dirs.length));
    }
    assert.ok(used.size >= 2, 'twelve keys land in more than one dir');
  });

  it('evicts the least recently used block when cacheSizeBytes is reached', async function () {
    const dir = tmpDir('ferry-cache-');
    const registry = new Registry();
    const cache = await openCache({ cacheDirs: [dir], cacheSizeBytes: 3 * FILE, registry });
    const [a = '', b = '', c = '', d = ''] = await seed(4);
    for (const key of [a, b, c]) {
      await cache.get(key);
      await cache.settle();
    }
    await cache.get(a); // a is now more recent than b
    await cache.get(d);
    await cache.settle();
    assert.deepEqual([a, b, c, d].map((k) => existsSync(rawPath(dir, k))), [true, false, true, true]);
    assert.equal(cache.stats().diskBytes, 3 * FILE);
    assert.match(await registry.metrics(), /^ferry_cache_evictions_total\{tier="disk"\} 1$/m);
  });

  it('evicts least recently used blocks to keep freeSpaceRatio of the cache disk free', async function () {
    const dir = tmpDir('ferry-cache-');
    const disk = settableStatfs({ totalBytes: 100 * FILE, freeBytes: 50 * FILE });
    const cache = await openCache({ cacheDirs: [dir], freeSpaceRatio: 0.1, statfs: disk.statfs });
    const keys = await seed(5);
    for (const key of keys.slice(0, 4)) {
      await cache.get(key);
      await cache.settle();
    }
    // Writing one more block would leave 9.5 files of free space, under the 10-file floor: one eviction fixes it.
    disk.space.freeBytes = 10.5 * FILE;
    await cache.get(keys[4] ?? '');
    await cache.settle();
    assert.deepEqual(keys.map((k) => existsSync(rawPath(dir, k))), [false, true, true, true, true]);
  });

  it('does not cache a block when the free-space floor cannot be met', async function () {
    const dir = tmpDir('ferry-cache-');
    const cache = await openCache({ cacheDirs: [dir], statfs: async () => ({ totalBytes: 100 * FILE, freeBytes: 5 * FILE }) });
    const [key = ''] = await seed(1);
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN), 'the read itself still succeeds');
    await cache.settle();
    assert.equal(existsSync(rawPath(dir, key)), false);
    assert.equal(cache.stats().diskBlocks, 0);
  });

  it('rebuilds its index from the cache dir after a restart and enforces the new size limit', async function () {
    const dir = tmpDir('ferry-cache-');
    const first = await openCache({ cacheDirs: [dir] });
    const keys = await seed(3);
    for (const key of keys) await first.get(key);
    await first.settle();
    await first.close();

    const again = await openCache({ cacheDirs: [dir] });
    await again.whenScanned();
    assert.deepEqual(again.stats(), { memoryBlocks: 0, memoryBytes: 0, diskBlocks: 3, diskBytes: 3 * FILE, pendingUploads: 0 });
    for (const [i, key] of keys.entries()) assert.deepEqual(await again.get(key), blockBytes(i + 1, LEN));
    assert.equal(store.getCalls.length, 3, 'only the first process went to the store');
    await again.close();

    const smaller = await openCache({ cacheDirs: [dir], cacheSizeBytes: 2 * FILE });
    await smaller.whenScanned();
    await smaller.settle();
    assert.equal(smaller.stats().diskBlocks, 2);
    assert.equal(keys.filter((k) => existsSync(rawPath(dir, k))).length, 2);
  });

  it('serves cached blocks while the start-up scan is still running', async function () {
    const dir = tmpDir('ferry-cache-');
    const first = await openCache({ cacheDirs: [dir] });
    const [key = ''] = await seed(1);
    await first.get(key);
    await first.settle();
    await first.close();
    const again = await openCache({ cacheDirs: [dir] });
    const scanned = again.whenScanned();
    assert.deepEqual(await again.get(key), blockBytes(1, LEN));
    await scanned;
    assert.equal(store.gets(key), 1);
    assert.equal(again.stats().diskBlocks, 1);
  });

  it('serves and indexes a block another process cached after the start-up scan (ferry warmup next to a daemon)', async function () {
    const dir = tmpDir('ferry-cache-');
    const daemon = await openCache({ cacheDirs: [dir] });
    await daemon.whenScanned();
    const [key = ''] = await seed(1);
    const warmup = await openCache({ cacheDirs: [dir] });
    await warmup.get(key);
    await warmup.settle();
    assert.equal(store.gets(key), 1);
    assert.deepEqual(await daemon.get(key), blockBytes(1, LEN));
    assert.equal(store.gets(key), 1, 'the daemon read the block the other process cached, not the store');
    assert.equal(daemon.stats().diskBlocks, 1);
  });

  it('drops a corrupt cached block, logs it and fetches it again from the store', async function () {
    const dir = tmpDir('ferry-cache-');
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    store = new CountingStore(new FileObjectStore(`${tmpDir('ferry-store-')}/`));
    const cache = await openCache({ cacheDirs: [dir], logger, registry });
    const [key = ''] = [keyOf(1, LEN)];
    await store.put(key, blockBytes(1, LEN));
    await cache.get(key);
    await cache.settle();
    const fh = await open(rawPath(dir, key), 'r+');
    await fh.write(Buffer.from('garbage'), 0, 7, 1000);
    await fh.close();

    assert.deepEqual(await cache.get(key), blockBytes(1, LEN));
    assert.equal(store.gets(key), 2);
    const line = lines.find((l) => l['key'] === key && l['level'] === 40);
    assert.ok(line, 'a warning names the key');
    assert.match(String(line['msg']), /corrupt/);
    assert.match(await registry.metrics(), /^ferry_cache_corrupt_blocks_total\{tier="disk"\} 1$/m);

    await cache.settle();
    assert.deepEqual(await cache.get(key), blockBytes(1, LEN), 'the re-fetched copy was cached again');
    assert.equal(store.gets(key), 2);
  });

  it('drops a truncated cached block and fetches it again', async function () {
    const dir = tmpDir('ferry-cache-');
    const cache = await openCache({ cacheDirs: [dir], prefetch: 0 });
    const [key = ''] = await seed(1);
    await cache.get(key);
    await cache.settle();
    await truncate(rawPath(dir, key), LEN / 2);
    assert.deepEqual(await cache.get(key, { offset: 0, length: 100 }), blockBytes(1, LEN).subarray(0, 100));
    assert.equal(store.gets(key), 2);
  });

  it('reads ranges of a cached block, verifying only the parts a range touches', async function () {
    const dir = tmpDir('ferry-cache-');
    const cache = await openCache({ cacheDirs: [dir], prefetch: 0 });
    const [key = ''] = await seed(1);
    const body = blockBytes(1, LEN);
    await cache.get(key);
    await cache.settle();
    for (const [offset, length] of [[0, 10], [PART_BYTES - 3, 6], [LEN - 5, 100], [LEN, 10]] as const) {
      assert.deepEqual(await cache.get(key, { offset, length }), body.subarray(offset, offset + length));
    }
    assert.equal(store.gets(key), 1);

    const fh = await open(rawPath(dir, key), 'r+'); // damage part 3 only
    await fh.write(Buffer.from('x'), 0, 1, 3 * PART_BYTES + 1);
    await fh.close();
    assert.deepEqual(await cache.get(key, { offset: 100, length: PART_BYTES }), body.subarray(100, 100 + PART_BYTES));
    assert.equal(store.gets(key), 1, 'parts 0-1 verify: served from disk');
    assert.deepEqual(await cache.get(key, { offset: 3 * PART_BYTES, length: 10 }), body.subarray(3 * PART_BYTES, 3 * PART_BYTES + 10));
    assert.equal(store.gets(key), 2, 'part 3 fails: fetched again');
  });

  it('answers a ranged miss with a ranged GET and caches nothing without prefetch', async function () {
    const cache = await openCache({ prefetch: 0 });
    const [key = ''] = await seed(1);
    assert.deepEqual(await cache.get(key, { offset: 10, length: 20 }), blockBytes(1, LEN).subarray(10, 30));
    await cache.settle();
    assert.deepEqual(store.getCalls, [{ key, range: { offset: 10, length: 20 } }]);
    assert.equal(cache.stats().diskBlocks, 0);
  });

  it('prefetches the whole block in the background after a ranged miss', async function () {
    const cache = await openCache({ prefetch: 1 });
    const [key = ''] = await seed(1);
    assert.deepEqual(await cache.get(key, { offset: 10, length: 20 }), blockBytes(1, LEN).subarray(10, 30));
    await cache.settle();
    assert.deepEqual(store.getCalls.map((c) => c.range), [{ offset: 10, length: 20 }, undefined]);
    assert.equal(cache.stats().diskBlocks, 1);
    assert.deepEqual(await cache.get(key, { offset: 1000, length: 5 }), blockBytes(1, LEN).subarray(1000, 1005));
    assert.equal(store.getCalls.length, 2);
  });

  it('treats a range covering a whole block-shaped key as a whole-block read and caches it', async function () {
    const cache = await openCache({ prefetch: 0 });
    const [key = ''] = await seed(1);
    assert.deepEqual(await cache.get(key, { offset: 0, length: LEN }), blockBytes(1, LEN));
    await cache.settle();
    assert.deepEqual(store.getCalls, [{ key, range: undefined }]);
    assert.equal(cache.stats().diskBlocks, 1);
  });

  it('shares one store GET among concurrent misses of one key', async function () {
    const cache = await openCache({ memoryCacheBytes: 10 * LEN });
    const [key = ''] = await seed(1);
    store.getGate.close();
    const reads = Array.from({ length: 6 }, () => cache.get(key));
    store.getGate.open();
    for (const body of await Promise.all(reads)) assert.deepEqual(body, blockBytes(1, LEN));
    assert.equal(store.gets(key), 1);
  });

  it('keeps the shared GET going when one of the waiting readers aborts', async function () {
    const cache = await openCache();
    const [key = ''] = await seed(1);
    store.getGate.close();
    const ac = new AbortController();
    const quitter = cache.get(key, undefined, ac.signal);
    const stayer = cache.get(key, undefined, new AbortController().signal);
    await store.until(() => store.getCalls.length >= 1);
    ac.abort(new Error('client gone'));
    await assert.rejects(quitter, /client gone/);
    store.getGate.open();
    assert.deepEqual(await stayer, blockBytes(1, LEN));
    assert.equal(store.gets(key), 1);
  });

  it('reports ENOENT for a block no tier and not the store has', async function () {
    const cache = await openCache();
    await assert.rejects(cache.get(keyOf(99, LEN)), (err: unknown) => isFsError(err, Errno.ENOENT));
  });

  it('write-through put stores the block before resolving and caches it only when asked', async function () {
    const cache = await openCache({ memoryCacheBytes: 10 * LEN });
    const [k1, k2] = [keyOf(1, LEN), keyOf(2, LEN)];
    await cache.put(k1, blockBytes(1, LEN));
    assert.deepEqual(await backing.get(k1), blockBytes(1, LEN));
    await cache.put(k2, blockBytes(2, LEN), { cache: true });
    await cache.settle();
    assert.deepEqual(await cache.get(k2), blockBytes(2, LEN));
    assert.equal(store.gets(k2), 0);
    assert.deepEqual(cache.stats(), { memoryBlocks: 1, memoryBytes: LEN, diskBlocks: 1, diskBytes: FILE, pendingUploads: 0 });
  });

  it('evict drops the cached copies and delete removes the block everywhere', async function () {
    const dir = tmpDir('ferry-cache-');
    const cache = await openCache({ cacheDirs: [dir], memoryCacheBytes: 10 * LEN });
    const [key = ''] = await seed(1);
    await cache.get(key);
    await cache.settle();
    await cache.evict(key);
    await cache.settle();
    assert.equal(existsSync(rawPath(dir, key)), false);
    assert.deepEqual(cache.stats().memoryBlocks + cache.stats().diskBlocks, 0);
    await cache.get(key);
    assert.equal(store.gets(key), 2);
    await cache.settle();
    await cache.delete(key);
    await cache.settle();
    await assert.rejects(backing.head(key), (err: unknown) => isFsError(err, Errno.ENOENT));
    await assert.rejects(cache.get(key), (err: unknown) => isFsError(err, Errno.ENOENT));
  });

  it('counts hits by tier and misses in ferry_cache_* metrics', async function () {
    const registry = new Registry();
    const cache = await openCache({ registry, memoryCacheBytes: LEN });
    const [a = '', b = ''] = await seed(2);
    await cache.get(a); // miss
    await cache.get(a); // memory
    await cache.settle();
    await cache.get(b); // miss, pushes a out of memory
    await cache.settle();
    await cache.get(a); // disk
    const text = await registry.metrics();
    assert.match(text, /^ferry_cache_misses_total 2$/m);
    assert.match(text, new RegExp(`^ferry_cache_miss_bytes_total ${2 * LEN}$`, 'm'));
    assert.match(text, /^ferry_cache_hits_total\{tier="memory"\} 1$/m);
    assert.match(text, /^ferry_cache_hits_total\{tier="disk"\} 1$/m);
    assert.match(text, /^ferry_cache_blocks\{tier="disk"\} 2$/m);
  });

  it('reads a range straight into the caller buffer from a store that reads in place when no tier keeps blocks', async function () {
    const files = new FileObjectStore(`${tmpDir('ferry-files-')}/`);
    const direct = new CountingStore(files);
    const key = await seedOne(files);
    const cache = await openCache({ store: direct, diskCache: false, memoryCacheBytes: 0 });
    await cache.whenScanned();
    const dest = Buffer.alloc(LEN, 0xee);
    assert.equal(await cache.getInto(key, { offset: 100, length: 5000 }, dest), 5000);
    assert.deepEqual(dest.subarray(0, 5000), blockBytes(1, LEN).subarray(100, 5100));
    assert.equal(await cache.getInto(key, { offset: LEN - 10, length: 100 }, dest), 10, 'short at the end of the block');
    assert.deepEqual(dest.subarray(0, 10), blockBytes(1, LEN).subarray(LEN - 10));
    assert.equal(direct.intoCalls.length, 2);
    assert.equal(direct.getCalls.length, 0, 'no get: no buffer of its own');
    await assert.rejects(cache.getInto(keyOf(9, LEN), { offset: 0, length: 10 }, dest), (err: unknown) => isFsError(err, Errno.ENOENT));
  });

  it('copies a range out of the tier that keeps the block when one does, fetching the block once', async function () {
    const files = new FileObjectStore(`${tmpDir('ferry-files-')}/`);
    const counted = new CountingStore(files);
    const key = await seedOne(files);
    const cache = await openCache({ store: counted, memoryCacheBytes: 4 * LEN });
    const dest = Buffer.alloc(LEN);
    for (let i = 0; i < 3; i++) {
      dest.fill(0xee);
      assert.equal(await cache.getInto(key, { offset: 0, length: LEN }, dest), LEN);
      assert.deepEqual(dest, blockBytes(1, LEN));
    }
    assert.equal(counted.gets(key), 1);
    assert.equal(counted.intoCalls.length, 0);
  });

  it('reads a staged block not yet uploaded from staging, not from the store', async function () {
    const files = new FileObjectStore(`${tmpDir('ferry-files-')}/`);
    const direct = new CountingStore(files);
    const cache = await openCache({ store: direct, diskCache: false, memoryCacheBytes: 0 });
    await cache.whenScanned();
    direct.putGate.close();
    const key = keyOf(7, LEN);
    await cache.put(key, blockBytes(7, LEN), { writeBack: true });
    const dest = Buffer.alloc(LEN);
    assert.equal(await cache.getInto(key, { offset: 0, length: LEN }, dest), LEN);
    assert.deepEqual(dest, blockBytes(7, LEN));
    assert.equal(direct.intoCalls.length + direct.getCalls.length, 0);
    direct.putGate.open();
    await cache.drain();
  });

  it('works with memory only when no cache dir is given', async function () {
    const cache = await TieredBlockCache.open({ store, volumeUuid: UUID });
    caches.push(cache);
    const [key = ''] = await seed(1);
    await cache.get(key);
    await cache.get(key);
    assert.equal(store.gets(key), 1);
    await cache.put(keyOf(5, 10), Buffer.alloc(10, 5), { writeBack: true });
    assert.deepEqual(await backing.get(keyOf(5, 10)), Buffer.alloc(10, 5), 'write-back without a disk is write-through');
    assert.equal(cache.pendingUploads(), 0);
  });
});
