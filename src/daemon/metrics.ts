/**
 * Binds the layers' seams to the Prometheus registry for `ferry serve` without the layers knowing
 * prom-client: a MetaEngine decorator that times every engine transaction (do* calls) and counts
 * EAGAIN restarts, and a Vfs decorator that counts file bytes read and written. Both forward every
 * other member unchanged; they must not alter arguments, results or errors.
 */
import type { MetaEngine } from '../meta/engine.js';
import { dataBytesMetrics, metaTxnMetrics, type Registry } from '../observability/metrics.js';
import { secondsSince } from '../observability/ops.js';
import { Errno, isFsError } from '../util/errno.js';
import type { Vfs } from '../vfs/vfs.js';

/** `doMknod` -> `mknod`: the op label of an engine transaction. */
const opOf = (method: string): string => method.charAt(2).toLowerCase() + method.slice(3);

/**
 * The engine with ferry_meta_txn_seconds{engine,op} observed around each do* call and
 * ferry_meta_txn_restarts_total{engine,op} counted when one fails with EAGAIN (BaseMeta then re-runs
 * the checks and the transaction).
 */
export function instrumentEngine(engine: MetaEngine, reg: Registry): MetaEngine {
  const m = metaTxnMetrics(reg);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(engine, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (fn !== undefined) return fn;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof prop === 'string' && /^do[A-Z]/.test(prop)) {
        const labels = { engine: target.kind, op: opOf(prop) };
        fn = async (...args: unknown[]): Promise<unknown> => {
          const started = process.hrtime.bigint();
          try {
            return await method.apply(target, args);
          } catch (err) {
            if (isFsError(err, Errno.EAGAIN)) m.restarts.inc(labels);
            throw err;
          } finally {
            m.txn.observe(labels, secondsSince(started));
          }
        };
      } else {
        fn = method.bind(target);
      }
      wrapped.set(prop, fn);
      return fn;
    },
  });
}

/** The Vfs with ferry_vfs_read_bytes_total and ferry_vfs_written_bytes_total counted on read(), readInto(), readPooled() and write(). */
export function countDataBytes(vfs: Vfs, reg: Registry): Vfs {
  const m = dataBytesMetrics(reg);
  const read: Vfs['read'] = async (...args) => {
    const data = await vfs.read(...args);
    m.read.inc(data.length);
    return data;
  };
  const readInto: Vfs['readInto'] = async (...args) => {
    const n = await vfs.readInto(...args);
    m.read.inc(n);
    return n;
  };
  const readPooled: Vfs['readPooled'] = async (...args) => {
    const r = await vfs.readPooled(...args);
    m.read.inc(r.count);
    return r;
  };
  const write: Vfs['write'] = async (...args) => {
    await vfs.write(...args);
    m.written.inc(args[3].length);
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(vfs, {
    get(target, prop) {
      if (prop === 'read') return read;
      if (prop === 'readInto') return readInto;
      if (prop === 'readPooled') return readPooled;
      if (prop === 'write') return write;
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}
