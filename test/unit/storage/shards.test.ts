import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../../src/storage/memory.js';
import { fnv1a32, shardIndex, withShards } from '../../../src/storage/wrappers/shards.js';
import { withPrefix } from '../../../src/storage/wrappers/prefix.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

describe('sharding (spec §A.2)', function () {
  it('fnv1a32 matches the published FNV-1a 32-bit vectors', function () {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of the key', function () {
    assert.equal(fnv1a32('vol/日本'), 0x09fdb92f);
  });

  it('an object lands in shard FNV-1a(full key incl. volume prefix) mod N', async function () {
    const shards = [0, 1, 2, 3, 4].map((i) => new MemoryObjectStore(`s${i}`));
    const vol = withPrefix(withShards(shards), 'jfstest/');
    const rel = 'chunks/0/0/1_0_4194304';
    await vol.put(rel, Buffer.from('x'));
    const full = `jfstest/${rel}`;
    assert.equal(fnv1a32(full), 0xa46b09b2);
    const want = shardIndex(full, 5);
    assert.equal(want, 0xa46b09b2 % 5);
    for (const [i, s] of shards.entries()) {
      const has = await s.head(full).then(() => true, () => false);
      assert.equal(has, i === want, `shard ${i}`);
    }
  });

  it('listing merges every shard in key order', async function () {
    const shards = [0, 1, 2].map((i) => new MemoryObjectStore(`s${i}`));
    const store = withShards(shards);
    const keys = Array.from({ length: 40 }, (_, i) => `k/${String(i).padStart(3, '0')}`);
    for (const k of keys) await store.put(k, Buffer.from(k));
    const used = new Set(keys.map((k) => shardIndex(k, 3)));
    assert.equal(used.size, 3, 'test keys should use every shard');
    const listed: string[] = [];
    for await (const o of store.list('k/', { startAfter: 'k/004', limit: 30 })) listed.push(o.key);
    assert.deepEqual(listed, keys.slice(5, 35));
  });

  it('zero or more than 256 shards is EINVAL', function () {
    assert.throws(() => withShards([]), (e: unknown) => isFsError(e, Errno.EINVAL));
    assert.throws(() => withShards(Array.from({ length: 257 }, () => new MemoryObjectStore())), (e: unknown) => isFsError(e, Errno.EINVAL));
  });
});
