/**
 * Compression framing against the reference tools (spec §D.3): our lz4 raw blocks must decode
 * with the C lz4 library (the `lz4` CLI, via an LZ4 frame we wrap around the block) and we must
 * decode its blocks; our zstd frames must decode with the `zstd` CLI and vice versa.
 * Also the withCompression decorator's rules: which keys it compresses and how it fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lz4Block, zstdFrame } from '../../src/storage/codecs.js';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import type { ByteRange, ObjectStore } from '../../src/storage/object-store.js';
import { withCompression } from '../../src/storage/wrappers/compression.js';
import { Errno } from '../../src/util/errno.js';
import { rejectsWith } from './conformance/suite.js';

function run(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 << 20 });
  if (r.error !== undefined) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** An LZ4 frame (v1, independent blocks, no checksums, 4 MiB max block) holding one raw block. */
function lz4FrameAround(block: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(block.length);
  // magic, FLG=0x60, BD=0x70 (4 MiB), header checksum 0x73 (second byte of xxh32 of FLG,BD)
  return Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]), size, block, Buffer.alloc(4)]);
}

/** The raw blocks of an LZ4 frame written by the CLI, each with its decoded length. */
function lz4FrameBlocks(frame: Buffer, totalLen: number): { block: Buffer; stored: boolean; len: number }[] {
  assert.equal(frame.readUInt32LE(0), 0x184d2204);
  const flg = frame[4] ?? 0;
  const bd = frame[5] ?? 0;
  const maxBlock = 1 << (8 + 2 * ((bd >> 4) & 7));
  let pos = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1;
  const out: { block: Buffer; stored: boolean; len: number }[] = [];
  let left = totalLen;
  for (;;) {
    const word = frame.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const len = Math.min(maxBlock, left);
    out.push({ block: frame.subarray(pos, pos + size), stored: (word & 0x80000000) !== 0, len });
    pos += size + ((flg & 0x10) !== 0 ? 4 : 0);
    left -= len;
  }
  return out;
}

const samples: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([42])],
  ['twelve bytes', Buffer.from('abcdabcdabcd')],
  ['text 1 MiB', Buffer.from('All work and no play makes Jack a dull boy. '.repeat(24_000)).subarray(0, 1 << 20)],
  ['zeros 4 MiB', Buffer.alloc(4 << 20)],
  ['noise 256 KiB', randomBytes(256 << 10)],
  ['mixed 3 MiB', Buffer.concat([randomBytes(1 << 20), Buffer.alloc(1 << 20, 7), Buffer.from('xyz'.repeat(349_526)).subarray(0, 1 << 20)])],
];

describe('lz4 raw block framing (spec §D.3)', function () {
  for (const [name, data] of samples) {
    it(`our block of ${name} decodes with the reference lz4 to the same bytes`, function () {
      const block = lz4Block.compress(data);
      assert.deepEqual(run('lz4', ['-d', '-c'], lz4FrameAround(block)), data);
      assert.deepEqual(lz4Block.decompress(block, data.length), data);
    });
  }

  it('blocks written by the reference lz4 decode with ours', function () {
    for (const [name, data] of samples) {
      if (data.length === 0) continue;
      const frame = run('lz4', ['-c', '-1', '--no-frame-crc', '-BI'], data);
      const parts = lz4FrameBlocks(frame, data.length);
      const decoded = Buffer.concat(parts.map((p) => (p.stored ? p.block : lz4Block.decompress(p.block, p.len))));
      assert.ok(decoded.equals(data), name);
      if (data.length >= 1024 && !name.startsWith('noise')) assert.ok(parts.some((p) => !p.stored), `${name}: expected a compressed block`);
    }
  });

  it('an empty block is the single token byte LZ4_compress_default writes', function () {
    assert.deepEqual(lz4Block.compress(Buffer.alloc(0)), Buffer.from([0]));
  });

  it('a body without a length prefix or frame: a known vector decodes', function () {
    // Hand-assembled from the block format: token 0x4f = 4 literals "abcd" + match (15 + extra 5 + 4 = 24
    // bytes at offset 4); token 0x50 = 5 final literals "abcd\n".
    const block = Buffer.from([0x4f, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x05, 0x50, 0x61, 0x62, 0x63, 0x64, 0x0a]);
    const want = Buffer.from('abcd'.repeat(7) + 'abcd\n');
    assert.deepEqual(lz4Block.decompress(block, want.length), want);
  });

  it('garbage, truncation, an empty body or a wrong length is EIO', function () {
    const data = Buffer.from('hello hello hello hello hello hello hello');
    const block = lz4Block.compress(data);
    for (const [body, len] of [[Buffer.from([0xff, 0xff, 0xff]), 10], [block.subarray(0, block.length - 3), data.length], [Buffer.alloc(0), 0], [block, data.length + 1], [block, data.length - 1]] as const) {
      assert.throws(() => lz4Block.decompress(body, len), { errno: Errno.EIO });
    }
  });
});

describe('zstd frame framing (spec §D.3)', function () {
  for (const [name, data] of samples) {
    it(`our frame of ${name} starts with the zstd magic and decodes with the reference zstd`, function () {
      const frame = zstdFrame.compress(data);
      assert.deepEqual([...frame.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
      assert.deepEqual(run('zstd', ['-d', '-c', '-q'], frame), data);
      assert.deepEqual(zstdFrame.decompress(frame, data.length), data);
    });
  }

  it('frames written by the reference zstd decode with ours', function () {
    for (const [name, data] of samples) {
      const frame = run('zstd', ['-1', '-c', '-q'], data);
      assert.ok(zstdFrame.decompress(frame, data.length).equals(data), name);
    }
  });

  it('garbage or a wrong length is EIO', function () {
    const data = Buffer.from('zstd zstd zstd zstd zstd zstd');
    const frame = zstdFrame.compress(data);
    assert.throws(() => zstdFrame.decompress(Buffer.from('not a zstd frame'), 5), { errno: Errno.EIO });
    assert.throws(() => zstdFrame.decompress(frame.subarray(0, frame.length - 2), data.length), { errno: Errno.EIO });
    assert.throws(() => zstdFrame.decompress(frame, data.length + 1), { errno: Errno.EIO });
  });
});

/** Records the ranges its inner store is asked for. */
function recording(inner: ObjectStore): { store: ObjectStore; gets: (ByteRange | undefined)[] } {
  const gets: (ByteRange | undefined)[] = [];
  return {
    gets,
    store: { ...inner, description: inner.description, get: (k, r, s) => { gets.push(r); return inner.get(k, r, s); }, put: (k, b, s) => inner.put(k, b, s), delete: (k, s) => inner.delete(k, s), head: (k, s) => inner.head(k, s), list: (p, o) => inner.list(p, o), close: () => inner.close() },
  };
}

describe('withCompression', function () {
  for (const algo of ['lz4', 'zstd'] as const) {
    const codec = algo === 'lz4' ? lz4Block : zstdFrame;

    it(`${algo}: a block object holds exactly the codec output and reads back`, async function () {
      const raw = new MemoryObjectStore();
      const store = withCompression(raw, algo);
      const data = Buffer.from('compress me '.repeat(1000));
      const key = `vol/chunks/0/0/5_0_${data.length}`;
      await store.put(key, data);
      const stored = await raw.get(key);
      assert.ok(stored.length < data.length / 10);
      assert.deepEqual(stored, codec.compress(data));
      assert.deepEqual(codec.decompress(stored, data.length), data);
      assert.deepEqual(await store.get(key), data);
    });

    it(`${algo}: keys that are not blocks are stored raw (juicefs_uuid, meta dumps)`, async function () {
      const raw = new MemoryObjectStore();
      const store = withCompression(raw, algo);
      const uuid = Buffer.from('3c2a9f0e-4a6b-4c89-9d41-8f7a6e2b1c00');
      await store.put('vol/juicefs_uuid', uuid);
      assert.deepEqual(await raw.get('vol/juicefs_uuid'), uuid);
      assert.deepEqual(await store.get('vol/juicefs_uuid', { offset: 0, length: 8 }), uuid.subarray(0, 8));
    });

    it(`${algo}: a ranged get fetches the whole object and slices it`, async function () {
      const rec = recording(new MemoryObjectStore());
      const store = withCompression(rec.store, algo);
      const data = randomBytes(5000);
      const key = `chunks/0/0/9_0_${data.length}`;
      await store.put(key, data);
      assert.deepEqual(await store.get(key, { offset: 100, length: 50 }), data.subarray(100, 150));
      assert.deepEqual(rec.gets, [undefined]);
    });

    it(`${algo}: head and list report the uncompressed length`, async function () {
      const raw = new MemoryObjectStore();
      const store = withCompression(raw, algo);
      const data = Buffer.alloc(100_000);
      const key = `chunks/0/0/3_0_${data.length}`;
      await store.put(key, data);
      assert.ok((await raw.head(key)).size < 1000);
      assert.equal((await store.head(key)).size, 100_000);
      for await (const o of store.list('chunks/')) assert.equal(o.size, 100_000);
    });

    it(`${algo}: putting a block whose body length differs from the key is EINVAL`, async function () {
      const store = withCompression(new MemoryObjectStore(), algo);
      await rejectsWith(store.put('chunks/0/0/1_0_10', Buffer.alloc(11)), Errno.EINVAL);
    });

    it(`${algo}: a corrupt or mislabelled object is EIO naming the key`, async function () {
      const raw = new MemoryObjectStore();
      const store = withCompression(raw, algo);
      await raw.put('chunks/0/0/1_0_10', Buffer.from('garbage!!'));
      await assert.rejects(store.get('chunks/0/0/1_0_10'), (e: unknown) => e instanceof Error && /chunks\/0\/0\/1_0_10/.test(e.message) && (e as { errno?: number }).errno === Errno.EIO);
      await raw.put('chunks/0/0/2_0_10', codec.compress(Buffer.alloc(12)));
      await rejectsWith(store.get('chunks/0/0/2_0_10'), Errno.EIO);
    });
  }
});
