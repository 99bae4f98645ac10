/**
 * Memory tier of the block cache: whole blocks by object key, least-recently-used eviction under a
 * byte limit. Map insertion order is the LRU order (oldest first; a hit re-inserts). Buffers are
 * shared with callers, who must not modify them. Holds no partial blocks and does no I/O.
 */
import type { CacheMetrics } from './metrics.js';

export class MemoryTier {
  readonly #limitBytes: number;
  readonly #blocks = new Map<string, Buffer>(); // LRU order, oldest first
  readonly #metrics: CacheMetrics;
  #usedBytes = 0;

  constructor(limitBytes: number, metrics: CacheMetrics) {
    this.#limitBytes = Math.max(0, limitBytes);
    this.#metrics = metrics;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get blockCount(): number {
    return this.#blocks.size;
  }

  /** The block, marked most recently used; undefined on a miss. */
  get(key: string): Buffer | undefined {
    const body = this.#blocks.get(key);
    if (body === undefined) return undefined;
    this.#blocks.delete(key);
    this.#blocks.set(key, body);
    return body;
  }

  has(key: string): boolean {
    return this.#blocks.has(key);
  }

  /** Inserts or replaces `key`, evicting the least recently used blocks to fit; a block larger than the limit is not kept. */
  put(key: string, body: Buffer): void {
    this.delete(key);
    if (body.length > this.#limitBytes) return;
    while (this.#usedBytes + body.length > this.#limitBytes) {
      const oldest = this.#blocks.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
      this.#metrics.evictions.inc({ tier: 'memory' });
    }
    this.#blocks.set(key, body);
    this.#usedBytes += body.length;
    this.#metrics.blocks.inc({ tier: 'memory' });
    this.#metrics.bytes.inc({ tier: 'memory' }, body.length);
  }

  /** Drops `key`; true when it was held. */
  delete(key: string): boolean {
    const body = this.#blocks.get(key);
    if (body === undefined) return false;
    this.#blocks.delete(key);
    this.#usedBytes -= body.length;
    this.#metrics.blocks.dec({ tier: 'memory' });
    this.#metrics.bytes.dec({ tier: 'memory' }, body.length);
    return true;
  }

  clear(): void {
    for (const key of [...this.#blocks.keys()]) this.delete(key);
  }
}
