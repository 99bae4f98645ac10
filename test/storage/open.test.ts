/** createObjectStore: the volume setting decides backend, prefix, compression and shards. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { lz4Block } from '../../src/storage/codecs.js';
import { blockKey } from '../../src/storage/keys.js';
import { createObjectStore } from '../../src/storage/open.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { shardIndex } from '../../src/storage/wrappers/shards.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { sharedS3rver } from '../helpers/hooks.js';
import { freshBucket, s3rverConfig } from '../helpers/s3-buckets.js';
import { tmpDir } from '../helpers/tmp.js';

describe('createObjectStore', function () {
  it('file: blocks land at <bucket><name>/chunks/..., compressed when the setting says LZ4', async function () {
    const dir = `${tmpDir('ferry-open-')}/`;
    const store = createObjectStore({ storage: 'FILE', bucket: dir, name: 'jfstest', compression: 'LZ4' });
    const data = Buffer.from('block '.repeat(1000));
    const key = blockKey(1n, 0, data.length);
    await store.put(key, data);
    const onDisk = readFileSync(`${dir}jfstest/chunks/0/0/1_0_${data.length}`);
    assert.deepEqual(onDisk, lz4Block.compress(data));
    assert.deepEqual(await store.get(key), data);
    await store.put('juicefs_uuid', Buffer.from('uuid-text'));
    assert.equal(readFileSync(`${dir}jfstest/juicefs_uuid`, 'utf8'), 'uuid-text');
  });

  it('compression none or empty stores blocks as they are', async function () {
    for (const compression of ['none', '', undefined]) {
      const dir = `${tmpDir('ferry-open-')}/`;
      const store = createObjectStore({ storage: 'file', bucket: dir, name: 'v', ...(compression === undefined ? {} : { compression }) });
      await store.put('chunks/0/0/2_0_3', Buffer.from('raw'));
      assert.equal(readFileSync(`${dir}v/chunks/0/0/2_0_3`, 'utf8'), 'raw');
    }
  });

  it('shards: each object goes to bucket pattern %d = FNV-1a(<name>/<key>) mod N', async function () {
    const base = tmpDir('ferry-shards-');
    const store = createObjectStore({ storage: 'file', bucket: `${base}/s%d/`, name: 'vol', shards: 4 });
    const keys = Array.from({ length: 12 }, (_, i) => blockKey(BigInt(i + 1), 0, 1));
    for (const k of keys) await store.put(k, Buffer.from('x'));
    for (const k of keys) {
      const want = shardIndex(`vol/${k}`, 4);
      for (let i = 0; i < 4; i++) assert.equal(existsSync(`${base}/s${i}/vol/${k}`), i === want, `${k} in shard ${i}`);
    }
  });

  it('s3 on s3rver: blocks are stored under <name>/ in the bucket', async function () {
    const srv = await sharedS3rver();
    const bucket = await freshBucket();
    const store = createObjectStore({ storage: 'minio', bucket: `${srv.endpoint}/${bucket}`, name: 'myvol', accessKey: srv.accessKey, secretKey: srv.secretKey });
    const direct = new S3ObjectStore(await s3rverConfig(bucket));
    try {
      await store.put(blockKey(1234567n, 0, 3), Buffer.from('abc'));
      assert.deepEqual(await direct.get('myvol/chunks/1/1234/1234567_0_3'), Buffer.from('abc'));
    } finally {
      await store.close();
      await direct.close();
    }
  });

  it('bad settings are EINVAL: unknown storage or compression, shards without %d, too many shards, bad name', function () {
    const bad = [
      { storage: 'gs', bucket: 'x', name: 'v' },
      { storage: 'file', bucket: '/tmp/x/', name: 'v', compression: 'brotli' },
      { storage: 'file', bucket: '/tmp/x/', name: 'v', shards: 3 },
      { storage: 'file', bucket: '/tmp/x%d/', name: 'v', shards: 300 },
      { storage: 'file', bucket: '/tmp/x/', name: 'a/b' },
    ];
    for (const s of bad) assert.throws(() => createObjectStore(s), (e: unknown) => isFsError(e, Errno.EINVAL), JSON.stringify(s));
  });
});
