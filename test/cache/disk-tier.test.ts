/**
 * DiskTier's kept read descriptors: a cached block read again is read through the descriptor kept
 * from the first read (no open and close), and every way a block file goes away or is replaced
 * drops that descriptor, so no stale bytes are served and no deleted file keeps its disk space.
 */
import assert from 'node:assert/strict';
import { existsSync, unlinkSync } from 'node:fs';
import { Registry } from 'prom-client';
import { PART_BYTES } from '../../src/cache/cache-file.js';
import { DiskTier } from '../../src/cache/disk-tier.js';
import { cacheMetrics } from '../../src/cache/metrics.js';
import { logger } from '../../src/observability/logger.js';
import { tmpDir } from '../helpers/tmp.js';
import { blockBytes, keyOf, roomyStatfs } from './helpers.js';

const UUID = '6f1c1d0e-3b7a-4f57-9a52-1d2f0c7e8a11';
const LEN = 4 * PART_BYTES;

describe('DiskTier read descriptors', function () {
  const tiers: DiskTier[] = [];
  afterEach(async function () {
    for (const t of tiers.splice(0)) await t.close();
  });

  async function openTier(): Promise<{ tier: DiskTier; dir: string }> {
    const dir = tmpDir('ferry-disk-tier-');
    const tier = new DiskTier({ dirs: [dir], volumeUuid: UUID, cacheSizeBytes: 1024 * LEN, freeSpaceRatio: 0, statfs: roomyStatfs, metrics: cacheMetrics(new Registry()), log: logger });
    tier.start();
    await tier.scanned();
    tiers.push(tier);
    return { tier, dir };
  }
  const rawPath = (dir: string, key: string): string => `${dir}/${UUID}/raw/${key}`;

  it('reads a block again through one kept descriptor, whole and in ranges', async function () {
    const { tier } = await openTier();
    const key = keyOf(1, LEN);
    const body = blockBytes(1, LEN);
    await tier.admit(key, body);
    assert.equal(tier.keptDescriptors, 0);
    assert.deepEqual(await tier.read(key, undefined), body);
    assert.deepEqual(await tier.read(key, { offset: 5, length: PART_BYTES }), body.subarray(5, 5 + PART_BYTES));
    assert.deepEqual(await tier.read(key, { offset: LEN - 3, length: 10 }), body.subarray(LEN - 3));
    assert.equal(tier.keptDescriptors, 1);
  });

  it('evicting a block closes its descriptor and deletes the file', async function () {
    const { tier, dir } = await openTier();
    const key = keyOf(2, LEN);
    await tier.admit(key, blockBytes(2, LEN));
    await tier.read(key, { offset: 0, length: 10 });
    assert.equal(tier.keptDescriptors, 1);
    tier.evict(key);
    await tier.settle();
    assert.equal(tier.keptDescriptors, 0);
    assert.equal(existsSync(rawPath(dir, key)), false);
    assert.equal(await tier.read(key, undefined), undefined);
  });

  it('a block evicted while it is being read stays out of the index (the read still answers its bytes)', async function () {
    const { tier, dir } = await openTier();
    const key = keyOf(9, LEN);
    const body = blockBytes(9, LEN);
    await tier.admit(key, body);
    const reading = tier.read(key, { offset: 0, length: 100 });
    tier.evict(key); // before the read's open completes
    assert.deepEqual(await reading, body.subarray(0, 100));
    await tier.settle();
    assert.equal(tier.blockCount, 0);
    assert.equal(tier.usedBytes, 0);
    assert.equal(existsSync(rawPath(dir, key)), false);
    assert.equal(await tier.read(key, undefined), undefined);
  });

  it('a block written again is read from the new file, not through the old descriptor', async function () {
    const { tier } = await openTier();
    const key = keyOf(3, LEN);
    await tier.admit(key, blockBytes(3, LEN));
    await tier.read(key, undefined);
    const other = blockBytes(4, LEN); // not what a key holds in a volume; shows which file is read
    await tier.admit(key, other);
    assert.deepEqual(await tier.read(key, undefined), other);
  });

  it('a block file deleted behind its back is a miss once no descriptor holds it, and leaves the index', async function () {
    const { tier, dir } = await openTier();
    const key = keyOf(5, LEN);
    await tier.admit(key, blockBytes(5, LEN));
    assert.equal(tier.blockCount, 1);
    unlinkSync(rawPath(dir, key));
    assert.equal(await tier.read(key, undefined), undefined);
    assert.equal(tier.blockCount, 0);
    assert.equal(tier.keptDescriptors, 0);
  });

  it('closing the tier closes every kept descriptor', async function () {
    const { tier } = await openTier();
    for (const i of [6, 7, 8]) {
      await tier.admit(keyOf(i, LEN), blockBytes(i, LEN));
      await tier.read(keyOf(i, LEN), { offset: 0, length: 1 });
    }
    assert.equal(tier.keptDescriptors, 3);
    await tier.close();
    assert.equal(tier.keptDescriptors, 0);
  });
});
