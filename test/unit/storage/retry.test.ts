import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MemoryObjectStore } from '../../../src/storage/memory.js';
import { backoffDelayMs, withRetry } from '../../../src/storage/wrappers/retry.js';
import { Errno, FsError, isFsError } from '../../../src/util/errno.js';
import { FaultyStore } from '../../helpers/faulty-store.js';

const eio = (): FsError => new FsError(Errno.EIO, 'injected 503');

describe('withRetry', function () {
  it('retries EIO and EAGAIN until the call succeeds', async function () {
    const faulty = new FaultyStore(new MemoryObjectStore());
    const store = withRetry(faulty, { attempts: 5, baseDelayMs: 1 });
    faulty.failNext('put', 2, eio());
    faulty.failNext('put', 1, new FsError(Errno.EAGAIN));
    await store.put('a', Buffer.from('x'));
    assert.equal(faulty.calls.put, 4);
    assert.deepEqual(await store.get('a'), Buffer.from('x'));
  });

  it('does not retry errors that will not heal (ENOENT, EACCES, EINVAL, ENXIO)', async function () {
    const faulty = new FaultyStore(new MemoryObjectStore());
    const store = withRetry(faulty, { attempts: 5, baseDelayMs: 1 });
    await assert.rejects(store.get('missing'), (e: unknown) => isFsError(e, Errno.ENOENT));
    assert.equal(faulty.calls.get, 1);
    for (const errno of [Errno.EACCES, Errno.EINVAL, Errno.ENXIO]) {
      faulty.failNext('head', 1, new FsError(errno));
      await assert.rejects(store.head('x'), (e: unknown) => isFsError(e, errno));
    }
    assert.equal(faulty.calls.head, 3);
  });

  it('gives up after the last try and says how many there were', async function () {
    const faulty = new FaultyStore(new MemoryObjectStore());
    const store = withRetry(faulty, { attempts: 3, baseDelayMs: 1 });
    faulty.failNext('delete', 5, eio());
    await assert.rejects(store.delete('a'), (e: unknown) => isFsError(e, Errno.EIO) && /injected 503 \(after 3 tries\)/.test(e.message));
    assert.equal(faulty.calls.delete, 3);
  });

  it('a listing that breaks midway resumes after the last delivered key, with no key twice', async function () {
    const mem = new MemoryObjectStore();
    const keys = Array.from({ length: 30 }, (_, i) => `l/${String(i).padStart(2, '0')}`);
    for (const k of keys) await mem.put(k, Buffer.from(k));
    const faulty = new FaultyStore(mem);
    const store = withRetry(faulty, { attempts: 3, baseDelayMs: 1 });
    faulty.breakNextListAfter(7, eio());
    faulty.breakNextListAfter(7, eio());
    faulty.breakNextListAfter(7, eio());
    const got: string[] = [];
    for await (const o of store.list('l/', { limit: 25 })) got.push(o.key);
    assert.deepEqual(got, keys.slice(0, 25));
    assert.equal(faulty.calls.list, 4);
  });

  it('an abort during the backoff stops at once with the abort reason', async function () {
    const faulty = new FaultyStore(new MemoryObjectStore());
    const store = withRetry(faulty, { attempts: 5, baseDelayMs: 60_000, random: () => 0.99 });
    faulty.failNext('get', 5, eio());
    const ac = new AbortController();
    const p = store.get('k', undefined, ac.signal);
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal(faulty.calls.get, 1);
  });

  it('backoff is exponential with full jitter and capped', function () {
    assert.equal(backoffDelayMs(1, 100, 10_000, () => 0.5), 50);
    assert.equal(backoffDelayMs(3, 100, 10_000, () => 0.5), 200);
    assert.equal(backoffDelayMs(20, 100, 10_000, () => 0.5), 5000);
    assert.equal(backoffDelayMs(4, 100, 10_000, () => 0), 0);
  });

  it('counts retries per operation in ferry_object_retries_total', async function () {
    const registry = new Registry();
    const faulty = new FaultyStore(new MemoryObjectStore());
    const store = withRetry(faulty, { attempts: 5, baseDelayMs: 1, registry });
    faulty.failNext('put', 2, eio());
    await store.put('a', Buffer.from('x'));
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'ferry_object_retries_total');
    assert.deepEqual(metric?.values.map((v) => [v.labels['op'], v.value]), [['put', 2]]);
  });
});
