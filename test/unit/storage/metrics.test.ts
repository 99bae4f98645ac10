import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MemoryObjectStore } from '../../../src/storage/memory.js';
import { withMetrics } from '../../../src/storage/wrappers/metrics.js';

async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const out: Record<string, number> = {};
  for (const v of m?.values ?? []) {
    const labels = Object.entries(v.labels).filter(([k]) => k !== 'le').map(([k, l]) => `${k}=${String(l)}`).join(',');
    const metricName = (v as { metricName?: string }).metricName;
    if (metricName !== undefined && !metricName.endsWith('_count')) continue;
    out[labels] = v.value;
  }
  return out;
}

describe('withMetrics', function () {
  it('counts requests, bytes, errors by errno and latency per operation', async function () {
    const registry = new Registry();
    const store = withMetrics(new MemoryObjectStore(), registry);
    await store.put('a', Buffer.alloc(100));
    await store.put('b', Buffer.alloc(50));
    await store.get('a', { offset: 0, length: 10 });
    await store.head('b');
    await store.get('missing').catch(() => undefined);
    for await (const _ of store.list('')) { /* drain */ }
    await store.delete('a');

    assert.deepEqual(await values(registry, 'ferry_object_requests_total'), { 'op=put': 2, 'op=get': 2, 'op=head': 1, 'op=list': 1, 'op=delete': 1 });
    assert.deepEqual(await values(registry, 'ferry_object_transfer_bytes_total'), { 'op=put': 150, 'op=get': 10 });
    assert.deepEqual(await values(registry, 'ferry_object_errors_total'), { 'op=get,errno=ENOENT': 1 });
    assert.deepEqual(await values(registry, 'ferry_object_request_duration_seconds'), { 'op=put': 2, 'op=get': 2, 'op=head': 1, 'op=list': 1, 'op=delete': 1 });
  });

  it('two stores on one registry share the metrics instead of failing to register', async function () {
    const registry = new Registry();
    const a = withMetrics(new MemoryObjectStore(), registry);
    const b = withMetrics(new MemoryObjectStore(), registry);
    await a.put('k', Buffer.alloc(1));
    await b.put('k', Buffer.alloc(1));
    assert.deepEqual(await values(registry, 'ferry_object_requests_total'), { 'op=put': 2 });
  });
});
