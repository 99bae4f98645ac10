/**
 * The process's one Prometheus registry (STYLE.md §8): default Node metrics plus helpers that
 * create `ferry_<layer>_<what>_<unit>` metrics. Layers register their metrics here; the admin
 * listener serves the registry at /metrics. It must not import any layer (it sits below them).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OpObserver } from './ops.js';

export type { Counter, Gauge, Histogram, Registry };

/** Which part of Ferry a metric belongs to; the second word of its name. */
export type MetricLayer = 'nfs' | 'mount' | 'webdav' | 'vfs' | 'meta' | 'storage' | 'cache' | 'daemon';

/** Latency buckets in seconds, from 100 µs to 30 s: protocol ops, meta transactions, object I/O. */
export const LATENCY_BUCKETS_SEC: readonly number[] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const NAME_PART = /^[a-z][a-z0-9_]*$/;
/** The last word of a metric name (Prometheus naming: base units, `_total` for counters). */
export type MetricUnit = 'total' | 'seconds' | 'bytes' | 'blocks' | 'ratio' | 'info' | 'count';

/** Builds `ferry_<layer>_<what>_<unit>`; throws on a malformed part so typos fail at start-up. */
export function metricName(layer: MetricLayer, what: string, unit: MetricUnit): string {
  if (!NAME_PART.test(what)) throw new Error(`metric part "${what}" must match ${NAME_PART.source}`);
  return `ferry_${layer}_${what}_${unit}`;
}

/** Creates a registry holding prom-client's default process and Node.js metrics. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The process-wide registry. Tests that need isolation create their own with createRegistry(). */
export const registry: Registry = createRegistry();

interface Common<L extends string> {
  layer: MetricLayer;
  what: string;
  help: string;
  labelNames?: readonly L[];
  registry?: Registry;
}

/** Sets a metric's value at each scrape (prom-client's collect), for values kept elsewhere. */
interface Collected<M> {
  collect?: (this: M) => void;
}

/** Returns the metric already registered under the name, so modules loaded twice share one. */
function existing<T>(reg: Registry, name: string): T | undefined {
  return reg.getSingleMetric(name) as T | undefined;
}

/** A monotonically increasing count, `ferry_<layer>_<what>_total`. */
export function counter<L extends string = string>(o: Common<L> & Collected<Counter<L>>): Counter<L> {
  const reg = o.registry ?? registry;
  const name = metricName(o.layer, o.what, 'total');
  return existing<Counter<L>>(reg, name) ?? new Counter<L>({ name, help: o.help, labelNames: o.labelNames ?? [], registers: [reg], ...(o.collect === undefined ? {} : { collect: o.collect }) });
}

/** A value that goes up and down, `ferry_<layer>_<what>_<unit>` (e.g. write-buffer bytes). */
export function gauge<L extends string = string>(o: Common<L> & Collected<Gauge<L>> & { unit: MetricUnit }): Gauge<L> {
  const reg = o.registry ?? registry;
  const name = metricName(o.layer, o.what, o.unit);
  return existing<Gauge<L>>(reg, name) ?? new Gauge<L>({ name, help: o.help, labelNames: o.labelNames ?? [], registers: [reg], ...(o.collect === undefined ? {} : { collect: o.collect }) });
}

/** A latency histogram in seconds, `ferry_<layer>_<what>_seconds`. */
export function latencyHistogram<L extends string = string>(o: Common<L> & { buckets?: readonly number[] }): Histogram<L> {
  const reg = o.registry ?? registry;
  const name = metricName(o.layer, o.what, 'seconds');
  return existing<Histogram<L>>(reg, name) ?? new Histogram<L>({ name, help: o.help, labelNames: o.labelNames ?? [], buckets: [...(o.buckets ?? LATENCY_BUCKETS_SEC)], registers: [reg] });
}

/** The per-operation trio every protocol exports: ops, errors and latency, labelled by op. */
export interface OpMetrics {
  /** Counts every request, by op. */
  ops: Counter<'op'>;
  /** Counts failed requests, by op and error (errno or protocol status name). */
  errors: Counter<'op' | 'error'>;
  /** Request latency in seconds, by op. */
  latency: Histogram<'op'>;
}

/** Creates (or returns) `ferry_<layer>_ops_total`, `ferry_<layer>_errors_total`, `ferry_<layer>_op_seconds`. */
export function opMetrics(layer: MetricLayer, reg: Registry = registry): OpMetrics {
  return {
    ops: counter({ layer, what: 'ops', help: `${layer} requests by operation`, labelNames: ['op'], registry: reg }),
    errors: counter({ layer, what: 'errors', help: `${layer} failed requests by operation and error`, labelNames: ['op', 'error'], registry: reg }),
    latency: latencyHistogram({ layer, what: 'op', help: `${layer} request latency by operation`, labelNames: ['op'], registry: reg }),
  };
}

/** An OpObserver that feeds opMetrics(layer): every record counts, errors also by error name. */
export function opObserver(layer: MetricLayer, reg: Registry = registry): OpObserver {
  const m = opMetrics(layer, reg);
  return {
    record(op, seconds, error) {
      m.ops.inc({ op });
      m.latency.observe({ op }, seconds);
      if (error !== undefined) m.errors.inc({ op, error });
    },
  };
}

/** Metrics of the metadata engine: transaction latency and restarts after a changed precondition, by engine and operation. */
export function metaTxnMetrics(reg: Registry = registry): { txn: Histogram<'engine' | 'op'>; restarts: Counter<'engine' | 'op'> } {
  return {
    txn: latencyHistogram({ layer: 'meta', what: 'txn', help: 'metadata engine transaction latency by engine and operation', labelNames: ['engine', 'op'], registry: reg }),
    restarts: counter({ layer: 'meta', what: 'txn_restarts', help: 'metadata transactions restarted because a precondition changed (EAGAIN)', labelNames: ['engine', 'op'], registry: reg }),
  };
}

/** What the SQLite engine's background WAL checkpoints report (meta/sqlite/checkpoints.ts). */
export interface CheckpointReading {
  /** Checkpoints the worker has completed. */
  runs: number;
  /** Frames in the WAL at the last one. */
  walFrames: number;
  /** The worker failed and SQLite checkpoints inside commits again. */
  fellBack: boolean;
}

/**
 * ferry_meta_checkpoints_total, ferry_meta_wal_frames_count and ferry_meta_checkpoint_fallback_count
 * (1 once the checkpoint worker failed), read from `read` at each scrape.
 */
export function checkpointMetrics(read: () => CheckpointReading, reg: Registry = registry): void {
  counter({
    layer: 'meta', what: 'checkpoints', help: 'sqlite WAL checkpoints run by the background worker', registry: reg,
    collect() { this.reset(); this.inc(read().runs); },
  });
  gauge({
    layer: 'meta', what: 'wal_frames', unit: 'count', help: 'frames in the sqlite WAL at the last background checkpoint', registry: reg,
    collect() { this.set(read().walFrames); },
  });
  gauge({
    layer: 'meta', what: 'checkpoint_fallback', unit: 'count', help: '1 once the sqlite checkpoint worker failed and checkpoints run inside commits again', registry: reg,
    collect() { this.set(read().fellBack ? 1 : 0); },
  });
}

/** Bytes the volume served to and accepted from the protocols (file data only). */
export function dataBytesMetrics(reg: Registry = registry): { read: Counter; written: Counter } {
  return {
    read: counter({ layer: 'vfs', what: 'read_bytes', help: 'file data bytes read through the vfs (NFS READ, WebDAV GET)', registry: reg }),
    written: counter({ layer: 'vfs', what: 'written_bytes', help: 'file data bytes written through the vfs (NFS WRITE, WebDAV PUT)', registry: reg }),
  };
}
