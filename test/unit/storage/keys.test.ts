import assert from 'node:assert/strict';
import { blockKey, parseBlockKey, sliceBlockKeys } from '../../../src/storage/keys.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

const MiB = 1 << 20;

describe('block object keys (spec §D.2)', function () {
  it('a 10 MiB slice 1 at 4 MiB blocks is three keys, the last one short', function () {
    assert.deepEqual(sliceBlockKeys(1n, 10 * MiB, 4 * MiB).map((k) => `jfstest/${k}`), [
      'jfstest/chunks/0/0/1_0_4194304',
      'jfstest/chunks/0/0/1_1_4194304',
      'jfstest/chunks/0/0/1_2_2097152',
    ]);
  });

  it('slice 1234567 goes under chunks/1/1234/', function () {
    assert.equal(blockKey(1234567n, 0, 4 * MiB), 'chunks/1/1234/1234567_0_4194304');
    assert.equal(blockKey(999_999n, 3, 100), 'chunks/0/999/999999_3_100');
    assert.equal(blockKey(1_000_000n, 0, 1), 'chunks/1/1000/1000000_0_1');
  });

  it('hash prefix layout uses id mod 256 as two upper-case hex digits, then id/1e6', function () {
    assert.equal(blockKey(1234567n, 0, 4 * MiB, true), 'chunks/87/1/1234567_0_4194304');
    assert.equal(blockKey(1n, 2, 5, true), 'chunks/01/0/1_2_5');
    assert.equal(blockKey(255n, 0, 5, true), 'chunks/FF/0/255_0_5');
    assert.equal(blockKey(256n, 0, 5, true), 'chunks/00/0/256_0_5');
  });

  it('slice ids above 2^53 keep every digit', function () {
    const id = (1n << 63n) + 5n;
    assert.equal(blockKey(id, 0, 1), `chunks/${id / 1_000_000n}/${id / 1000n}/9223372036854775813_0_1`);
    assert.equal(blockKey(id, 0, 1, true), `chunks/05/${id / 1_000_000n}/9223372036854775813_0_1`);
  });

  it('block length comes from the slice size: an exact multiple has no short block, size 0 has none', function () {
    assert.deepEqual(sliceBlockKeys(7n, 8 * MiB, 4 * MiB), ['chunks/0/0/7_0_4194304', 'chunks/0/0/7_1_4194304']);
    assert.deepEqual(sliceBlockKeys(7n, 0, 4 * MiB), []);
    assert.deepEqual(sliceBlockKeys(7n, 1, 64 * 1024, true), ['chunks/07/0/7_0_1']);
  });

  it('parseBlockKey inverts blockKey for both layouts, with or without the volume prefix', function () {
    for (const hash of [false, true]) {
      const key = blockKey(1234567n, 15, 2097152, hash);
      assert.deepEqual(parseBlockKey(key), { sliceId: 1234567n, blockIndex: 15, blockLen: 2097152 });
      assert.deepEqual(parseBlockKey(`myvol/${key}`), { sliceId: 1234567n, blockIndex: 15, blockLen: 2097152 });
    }
  });

  it('keys that are not blocks do not parse', function () {
    for (const k of ['myvol/juicefs_uuid', 'myvol/meta/dump-2024-01-01-000000.json.gz', 'chunks/0/0/1_0', 'chunks/0/0/1_0_x', 'a/1_0_4/']) {
      assert.equal(parseBlockKey(k), undefined, k);
    }
  });

  it('negative ids, indexes or lengths are EINVAL', function () {
    for (const f of [() => blockKey(-1n, 0, 1), () => blockKey(1n, -1, 1), () => blockKey(1n, 0, 1.5), () => sliceBlockKeys(1n, 10, 0)]) {
      assert.throws(f, (err: unknown) => isFsError(err, Errno.EINVAL));
    }
  });
});
