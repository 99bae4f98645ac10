/**
 * withMetrics: Prometheus counters and a latency histogram per object store operation
 * (STYLE.md §8 names: ferry_object_<what>_<unit>). Counts calls as the caller sees them; put it
 * inside compression to measure bytes on the wire and outside withRetry to count calls, not tries.
 * It never changes arguments or results.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { isFsError } from '../../util/errno.js';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../object-store.js';

type Op = 'get' | 'put' | 'delete' | 'head' | 'list';

interface Meters {
  requests: Counter<'op'>;
  errors: Counter<'op' | 'errno'>;
  bytes: Counter<'op'>;
  seconds: Histogram<'op'>;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function meters(registry: Registry): Meters {
  const name = 'ferry_object_request_duration_seconds';
  const existing = registry.getSingleMetric(name);
  const seconds = existing instanceof Histogram ? (existing as Histogram<'op'>) : new Histogram({
    name,
    help: 'Object store call latency by operation',
    labelNames: ['op'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    requests: counter(registry, 'ferry_object_requests_total', 'Object store calls by operation', ['op']),
    errors: counter(registry, 'ferry_object_errors_total', 'Failed object store calls by operation and errno', ['op', 'errno']),
    bytes: counter(registry, 'ferry_object_transfer_bytes_total', 'Object bytes received (get) and sent (put)', ['op']),
    seconds,
  };
}

export function withMetrics(store: ObjectStore, registry: Registry): ObjectStore {
  const m = meters(registry);

  async function measure<T>(op: Op, call: () => Promise<T>, size?: (v: T) => number): Promise<T> {
    m.requests.inc({ op });
    const end = m.seconds.startTimer({ op });
    try {
      const v = await call();
      if (size !== undefined) m.bytes.inc({ op }, size(v));
      return v;
    } catch (err) {
      m.errors.inc({ op, errno: isFsError(err) ? err.code : 'other' });
      throw err;
    } finally {
      end();
    }
  }

  const readInto = store.readInto?.bind(store);
  return {
    description: store.description,
    get: (key: string, range?: ByteRange, signal?: AbortSignal) => measure('get', () => store.get(key, range, signal), (b) => b.length),
    // an in-place read is a get as far as the counters go
    ...(readInto === undefined ? {} : { readInto: (key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal) => measure('get', () => readInto(key, range, dest, signal), (n) => n) }),
    put: (key: string, body: Buffer, signal?: AbortSignal) => measure('put', () => store.put(key, body, signal), () => body.length),
    delete: (key: string, signal?: AbortSignal) => measure('delete', () => store.delete(key, signal)),
    head: (key: string, signal?: AbortSignal) => measure('head', () => store.head(key, signal)),
    async *list(prefix: string, opts?: ListOptions): AsyncGenerator<ObjectInfo> {
      // The latency of a listing is the time spent waiting for the store, not for the consumer.
      m.requests.inc({ op: 'list' });
      const it = store.list(prefix, opts)[Symbol.asyncIterator]();
      let waited = 0;
      try {
        for (;;) {
          const t0 = process.hrtime.bigint();
          const r = await it.next();
          waited += Number(process.hrtime.bigint() - t0) / 1e9;
          if (r.done === true) return;
          yield r.value;
        }
      } catch (err) {
        m.errors.inc({ op: 'list', errno: isFsError(err) ? err.code : 'other' });
        throw err;
      } finally {
        m.seconds.observe({ op: 'list' }, waited);
        await it.return?.();
      }
    },
    close: () => store.close(),
  };
}
