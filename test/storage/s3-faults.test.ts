/**
 * The s3 backend under faults, through a fake HTTP server in front of s3rver: retries with
 * backoff on 5xx, SlowDown and resets; clear, unretried errors for 403 and a missing bucket;
 * timeouts and aborts; the exact headers we send; keep-alive and the socket bound.
 */
import assert from 'node:assert/strict';
import { S3ObjectStore, type S3StoreConfig } from '../../src/storage/s3.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { withRetry } from '../../src/storage/wrappers/retry.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { sharedS3rver } from '../helpers/hooks.js';
import { freshBucket, s3rverConfig } from '../helpers/s3-buckets.js';
import { startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy.js';
import { rejectsWith } from './conformance/suite.js';

describe('s3 backend under faults (fake server in front of s3rver)', function () {
  let proxy: FaultProxy;
  let bucket: string;
  const opened: ObjectStore[] = [];

  beforeEach(async function () {
    const srv = await sharedS3rver();
    proxy = await startFaultProxy(srv.port);
    bucket = await freshBucket();
  });

  afterEach(async function () {
    for (const s of opened.splice(0)) await s.close();
    await proxy.stop();
  });

  async function open(extra: Partial<S3StoreConfig> = {}, attempts = 4, bucketName = bucket): Promise<ObjectStore> {
    const raw = new S3ObjectStore(await s3rverConfig(bucketName, { endpoint: proxy.endpoint, ...extra }));
    const store = withRetry(raw, { attempts, baseDelayMs: 1, maxDelayMs: 5 });
    opened.push(store);
    return store;
  }

  const count = (method: string): number => proxy.requests.filter((r) => r.method === method).length;

  it('a PUT answered 503 SlowDown twice is retried and stored once', async function () {
    const store = await open();
    proxy.fail(2, { status: 503, code: 'SlowDown' });
    await store.put('k/1_0_5', Buffer.from('hello'));
    assert.equal(count('PUT'), 3);
    const direct = new S3ObjectStore(await s3rverConfig(bucket));
    opened.push(direct);
    assert.deepEqual(await direct.get('k/1_0_5'), Buffer.from('hello'));
  });

  it('a GET answered 500 InternalError is retried', async function () {
    const store = await open();
    await store.put('k/1_0_3', Buffer.from('abc'));
    proxy.fail(1, { status: 500, code: 'InternalError' });
    assert.deepEqual(await store.get('k/1_0_3'), Buffer.from('abc'));
    assert.equal(count('GET'), 2);
  });

  it('a connection reset mid-request is retried', async function () {
    const store = await open();
    await store.put('k/1_0_3', Buffer.from('xyz'));
    proxy.fail(2, 'reset');
    assert.equal((await store.head('k/1_0_3')).size, 3);
    assert.equal(count('HEAD'), 3);
  });

  it('SlowDown on every try is ETIMEDOUT (come back later) after the last try, with the S3 error as cause', async function () {
    const store = await open({}, 3);
    proxy.fail(10, { status: 503, code: 'SlowDown' });
    await assert.rejects(store.put('k/1_0_1', Buffer.from('x')), (err: unknown) => {
      assert.ok(isFsError(err, Errno.ETIMEDOUT));
      assert.match(err.message, /SlowDown/);
      assert.match(err.message, /after 3 tries/);
      assert.equal((err.cause as { name?: string }).name, 'SlowDown');
      return true;
    });
    assert.equal(count('PUT'), 3);
  });

  it('403 AccessDenied is EACCES with a hint, and is not retried', async function () {
    const store = await open();
    proxy.fail(1, { status: 403, code: 'AccessDenied' });
    await assert.rejects(store.get('k/1_0_1'), (err: unknown) => {
      assert.ok(isFsError(err, Errno.EACCES));
      assert.match(err.message, /access denied \(AccessDenied\).*access key/);
      return true;
    });
    assert.equal(count('GET'), 1);
  });

  it('a missing bucket is ENXIO naming the bucket, and is not retried', async function () {
    const store = await open({}, 4, 'no-such-bucket-here');
    await assert.rejects(store.put('k/1_0_1', Buffer.from('x')), (err: unknown) => {
      assert.ok(isFsError(err, Errno.ENXIO));
      assert.match(err.message, /bucket no-such-bucket-here does not exist/);
      return true;
    });
    await rejectsWith(store.get('k/1_0_1'), Errno.ENXIO);
    const it = store.list('')[Symbol.asyncIterator]();
    await rejectsWith(it.next(), Errno.ENXIO);
    assert.equal(proxy.requests.length, 3);
  });

  it('a request that gets no answer times out as ETIMEDOUT; a 500 on every try is EIO', async function () {
    const store = await open({ requestTimeoutMs: 300 }, 1);
    proxy.fail(1, 'hang');
    await rejectsWith(store.get('k/1_0_1'), Errno.ETIMEDOUT);
    proxy.fail(1, { status: 500, code: 'InternalError' });
    await rejectsWith(store.get('k/1_0_1'), Errno.EIO);
  });

  it('aborting a request that gets no answer rejects with AbortError and is not retried', async function () {
    const store = await open();
    proxy.fail(1, 'hang');
    const ac = new AbortController();
    const p = store.get('k/1_0_1', undefined, ac.signal);
    // Abort only once the hanging request reached the server (a fixed delay races on a loaded host).
    while (count('GET') === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal(count('GET'), 1);
  });

  it('a ranged GET asks for bytes=first-last, never a suffix range', async function () {
    const store = await open();
    await store.put('r/1_0_100', Buffer.alloc(100, 1));
    assert.equal((await store.get('r/1_0_100', { offset: 10, length: 10 })).length, 10);
    assert.equal((await store.get('r/1_0_100', { offset: 0, length: 1 })).length, 1);
    const ranges = proxy.requests.filter((r) => r.method === 'GET').map((r) => r.headers['range']);
    assert.deepEqual(ranges, ['bytes=10-19', 'bytes=0-0']);
  });

  it('a PUT sends the body as is: Content-Length, no aws-chunked encoding, no checksum headers', async function () {
    const store = await open();
    await store.put('p/1_0_1000', Buffer.alloc(1000, 2));
    const put = proxy.requests.find((r) => r.method === 'PUT');
    assert.ok(put !== undefined);
    assert.equal(put.headers['content-length'], '1000');
    assert.doesNotMatch(String(put.headers['content-encoding'] ?? ''), /aws-chunked/);
    assert.equal(put.headers['x-amz-decoded-content-length'], undefined);
    assert.deepEqual(Object.keys(put.headers).filter((h) => h.startsWith('x-amz-checksum') || h === 'x-amz-sdk-checksum-algorithm' || h === 'x-amz-trailer'), []);
  });

  it('sequential requests reuse one keep-alive connection', async function () {
    const store = await open();
    await store.put('ka/1_0_1', Buffer.from('k'));
    for (let i = 0; i < 10; i++) await store.head('ka/1_0_1');
    assert.equal(proxy.connections(), 1);
  });

  it('concurrent requests use at most maxSockets connections', async function () {
    const store = await open({ maxSockets: 2 });
    await store.put('ms/1_0_4096', Buffer.alloc(4096, 3));
    await Promise.all(Array.from({ length: 12 }, () => store.get('ms/1_0_4096')));
    assert.equal(count('GET'), 12);
    assert.ok(proxy.connections() <= 2, `${proxy.connections()} connections`);
  });
});
