/**
 * The process-wide buffer budget (JuiceFS --buffer-size, default 300 MiB; STYLE.md §7): an async
 * semaphore over bytes that write buffers and read-ahead draw from. acquire() waits on a promise
 * when the budget is spent (no polling); waiters are served strictly first come, first served, so
 * a large request is not starved by small ones. A request above the whole budget is clamped to it
 * (it then waits for an empty budget) so it cannot deadlock; release() clamps the same way.
 */
import { Gauge, type Registry } from 'prom-client';

export const DEFAULT_BUFFER_BYTES = 300 * 1024 * 1024;

interface Waiter {
  bytes: number;
  resolve: () => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class BufferBudget {
  readonly capacityBytes: number;
  #usedBytes = 0;
  #waiters: Waiter[] = []; // FIFO

  constructor(capacityBytes = DEFAULT_BUFFER_BYTES, registry?: Registry) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0) throw new RangeError(`buffer budget must be a positive integer, got ${capacityBytes}`);
    this.capacityBytes = capacityBytes;
    if (registry !== undefined) this.#register(registry);
  }

  /** Bytes granted and not released. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Requests waiting for bytes. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Bytes the waiting requests ask for (after clamping). */
  get waitingBytes(): number {
    return this.#waiters.reduce((n, w) => n + w.bytes, 0);
  }

  /**
   * Resolves once `bytes` (clamped to the capacity) are granted, after every earlier waiter.
   * Rejects with `signal.reason` if aborted first, in which case nothing is granted.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    const want = this.#clamp(bytes);
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#usedBytes + want <= this.capacityBytes) {
      this.#usedBytes += want;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes: want, resolve, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(signal.reason);
          this.#grant(); // the aborted waiter may have been blocking smaller ones behind it
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Grants `bytes` now if that needs no waiting (and nobody waits); never queues. */
  tryAcquire(bytes: number): boolean {
    const want = this.#clamp(bytes);
    if (this.#waiters.length > 0 || this.#usedBytes + want > this.capacityBytes) return false;
    this.#usedBytes += want;
    return true;
  }

  /** Returns `bytes` (clamped as in acquire) and wakes the waiters that now fit, in order. */
  release(bytes: number): void {
    const back = this.#clamp(bytes);
    if (back > this.#usedBytes) throw new RangeError(`release of ${back} bytes exceeds the ${this.#usedBytes} in use`);
    this.#usedBytes -= back;
    this.#grant();
  }

  #clamp(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bad byte count ${bytes}`);
    return Math.min(bytes, this.capacityBytes);
  }

  #grant(): void {
    for (;;) {
      const head = this.#waiters[0];
      if (head === undefined || this.#usedBytes + head.bytes > this.capacityBytes) return;
      this.#waiters.shift();
      this.#usedBytes += head.bytes;
      if (head.onAbort !== undefined) head.signal?.removeEventListener('abort', head.onAbort);
      head.resolve();
    }
  }

  #register(registry: Registry): void {
    const gauges: [string, string, () => number][] = [
      ['ferry_cache_buffer_used_bytes', 'Bytes of the global buffer budget in use', () => this.usedBytes],
      ['ferry_cache_buffer_capacity_bytes', 'Size of the global buffer budget', () => this.capacityBytes],
      ['ferry_cache_buffer_waiting_requests', 'Requests waiting for buffer bytes', () => this.waiting],
    ];
    for (const [name, help, read] of gauges) {
      registry.removeSingleMetric(name); // one budget per process: the newest one reports
      new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
    }
  }
}
