/**
 * withRetry: repeats a failed call with exponential backoff and full jitter. Safe because every
 * ObjectStore call is idempotent. Only transient failures are retried: by default FsError EIO (5xx),
 * ETIMEDOUT (SlowDown, 503, network errors and timeouts, as each backend's error mapper reports
 * them) and EAGAIN.
 * An aborted signal stops retrying at once. A listing that fails midway resumes after the last key
 * it delivered, so the caller never sees a key twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { logger } from '../../observability/logger.js';
import { Errno, FsError, isFsError } from '../../util/errno.js';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../object-store.js';

const log = logger.child({ module: 'storage', layer: 'retry' });

export interface RetryOptions {
  /** Total tries per call, the first included (default 5). */
  attempts?: number;
  /** Backoff cap before jitter for the first retry, doubled per retry (default 100 ms). */
  baseDelayMs?: number;
  /** Upper bound of one backoff (default 10 s). */
  maxDelayMs?: number;
  /** Which errors are worth another try (default: FsError EIO, ETIMEDOUT or EAGAIN). */
  retryable?: (err: unknown) => boolean;
  /** Uniform [0,1) source for jitter; tests pass a fixed one. */
  random?: () => number;
  /** Counts retries as `ferry_object_retries_total{op}` when given. */
  registry?: Registry;
}

const defaultRetryable = (err: unknown): boolean => isFsError(err, Errno.EIO) || isFsError(err, Errno.EAGAIN) || isFsError(err, Errno.ETIMEDOUT);

/** Full-jitter backoff before retry number `retry` (1-based): uniform in [0, min(cap, base * 2^(retry-1))). */
export function backoffDelayMs(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1)));
}

export function withRetry(store: ObjectStore, opts: RetryOptions = {}): ObjectStore {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 10_000;
  const retryable = opts.retryable ?? defaultRetryable;
  const random = opts.random ?? Math.random;
  const retries = opts.registry === undefined ? undefined : retryCounter(opts.registry);

  async function backoff(op: string, key: string, attempt: number, err: unknown, signal: AbortSignal | undefined): Promise<void> {
    const delay = backoffDelayMs(attempt, base, cap, random);
    retries?.inc({ op });
    log.warn({ op, key, attempt, delayMs: delay, err }, 'object store call failed, retrying');
    await sleep(delay, undefined, signal === undefined ? {} : { signal });
  }

  async function run<T>(op: string, key: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (signal?.aborted === true || attempt >= attempts || !retryable(err)) throw exhausted(err, attempt);
        await backoff(op, key, attempt, err, signal);
      }
    }
  }

  return {
    description: store.description,
    get: (key: string, range?: ByteRange, signal?: AbortSignal) => run('get', key, signal, () => store.get(key, range, signal)),
    put: (key: string, body: Buffer, signal?: AbortSignal) => run('put', key, signal, () => store.put(key, body, signal)),
    delete: (key: string, signal?: AbortSignal) => run('delete', key, signal, () => store.delete(key, signal)),
    head: (key: string, signal?: AbortSignal) => run('head', key, signal, () => store.head(key, signal)),
    async *list(prefix: string, lopts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
      let last = lopts.startAfter;
      let left = lopts.limit ?? Infinity;
      for (let attempt = 1; left > 0; attempt++) {
        const inner: ListOptions = { ...lopts };
        if (last !== undefined) inner.startAfter = last;
        if (left !== Infinity) inner.limit = left;
        try {
          for await (const info of store.list(prefix, inner)) {
            last = info.key;
            left--;
            attempt = 1;
            yield info;
          }
          return;
        } catch (err) {
          if (lopts.signal?.aborted === true || attempt >= attempts || !retryable(err)) throw exhausted(err, attempt);
          await backoff('list', prefix, attempt, err, lopts.signal);
        }
      }
    },
    close: () => store.close(),
  };
}

/** The error to surface: tries are named in the message, the errno and cause kept. */
function exhausted(err: unknown, tries: number): unknown {
  if (tries <= 1 || !(err instanceof FsError)) return err;
  return new FsError(err.errno, `${err.message.replace(/^E[A-Z]+: /, '')} (after ${tries} tries)`, { cause: err.cause ?? err });
}

function retryCounter(registry: Registry): Counter<'op'> {
  const name = 'ferry_object_retries_total';
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'op'>;
  return new Counter({ name, help: 'Object store calls retried after a transient failure', labelNames: ['op'], registers: [registry] });
}
