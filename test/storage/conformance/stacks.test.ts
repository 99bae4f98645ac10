/**
 * The conformance suite over decorator stacks: every decorator must keep the ObjectStore contract,
 * alone and composed the way createObjectStore() composes them.
 */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MemoryObjectStore } from '../../../src/storage/memory.js';
import { createObjectStore } from '../../../src/storage/open.js';
import { withCompression } from '../../../src/storage/wrappers/compression.js';
import { withMetrics } from '../../../src/storage/wrappers/metrics.js';
import { withPrefix } from '../../../src/storage/wrappers/prefix.js';
import { withRetry } from '../../../src/storage/wrappers/retry.js';
import { withShards } from '../../../src/storage/wrappers/shards.js';
import { sharedS3rver } from '../../helpers/hooks.js';
import { freshBucket } from '../../helpers/s3-buckets.js';
import { tmpDir } from '../../helpers/tmp.js';
import { storageConformance } from './suite.js';

storageConformance('withPrefix(memory)', () => withPrefix(new MemoryObjectStore(), 'vol/'));
storageConformance('withCompression(memory, lz4)', () => withCompression(new MemoryObjectStore(), 'lz4'));
storageConformance('withCompression(memory, zstd)', () => withCompression(new MemoryObjectStore(), 'zstd'));
storageConformance('withShards(3 x memory)', () => withShards([0, 1, 2].map((i) => new MemoryObjectStore(`shard${i}`))));
storageConformance('withRetry(withMetrics(memory))', () => withRetry(withMetrics(new MemoryObjectStore(), new Registry()), { baseDelayMs: 1 }));

storageConformance('createObjectStore(file, lz4)', () =>
  createObjectStore({ storage: 'file', bucket: `${tmpDir('ferry-open-')}/`, name: 'vol', compression: 'lz4' }));

storageConformance('createObjectStore(file, 2 shards, metrics): reads in place through prefix, metrics and shards', () => {
  const store = createObjectStore({ storage: 'file', bucket: `${tmpDir('ferry-open-')}/b%d/`, name: 'vol', shards: 2, metrics: new Registry() });
  assert.equal(typeof store.readInto, 'function', 'the stack keeps the file store\'s in-place read');
  return store;
});

storageConformance('createObjectStore(minio on s3rver, zstd, metrics)', async () => {
  const srv = await sharedS3rver();
  return createObjectStore({
    storage: 'minio', bucket: `${srv.endpoint}/${await freshBucket()}`, name: 'vol', compression: 'zstd',
    accessKey: srv.accessKey, secretKey: srv.secretKey, metrics: new Registry(), retry: { baseDelayMs: 1 },
  });
}, { serverListsInWalkOrder: true });

storageConformance('createObjectStore(s3 on s3rver, 3 shards, lz4)', async () => {
  const srv = await sharedS3rver();
  const base = `sh${Date.now() % 100_000}-${Math.floor(Math.random() * 1e6)}`;
  for (let i = 0; i < 3; i++) await freshBucket(`${base}-${i}`);
  return createObjectStore({
    storage: 's3', bucket: `${srv.endpoint}/${base}-%d`, name: 'vol', compression: 'lz4', shards: 3,
    accessKey: srv.accessKey, secretKey: srv.secretKey,
  });
}, { serverListsInWalkOrder: true });
