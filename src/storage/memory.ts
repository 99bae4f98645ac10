/**
 * In-memory ObjectStore: a Map from key to bytes. It is the fake unit tests use and passes the
 * same conformance suite as the real backends (STYLE.md §5). Bodies are copied in and out so a
 * caller can never change a stored object afterwards. Not for production data: nothing persists.
 */
import { Errno, FsError } from '../util/errno.js';
import { checkKey, checkRange, compareKeys, sliceRange, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';

interface Entry {
  body: Buffer;
  mtime: Date;
}

/** Keys listed per internal page; small enough that paging code paths run in tests. */
const PAGE_SIZE = 1000;

export class MemoryObjectStore implements ObjectStore {
  readonly description: string;
  readonly #objects = new Map<string, Entry>();

  constructor(name = 'default') {
    this.description = `memory://${name}`;
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    checkKey(key);
    if (range !== undefined) checkRange(range, key);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new FsError(Errno.ENOENT, `no object ${key} in ${this.description}`);
    return Buffer.from(sliceRange(entry.body, range));
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    checkKey(key);
    this.#objects.set(key, { body: Buffer.from(body), mtime: new Date() });
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    checkKey(key);
    this.#objects.delete(key);
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    signal?.throwIfAborted();
    checkKey(key);
    const entry = this.#objects.get(key);
    if (entry === undefined) throw new FsError(Errno.ENOENT, `no object ${key} in ${this.description}`);
    return { size: entry.body.length, mtime: entry.mtime };
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
    let cursor = opts.startAfter;
    let left = opts.limit ?? Infinity;
    while (left > 0) {
      opts.signal?.throwIfAborted();
      const after = cursor;
      const page = [...this.#objects.keys()]
        .filter((k) => k.startsWith(prefix) && (after === undefined || compareKeys(k, after) > 0))
        .sort(compareKeys)
        .slice(0, Math.min(PAGE_SIZE, left));
      for (const key of page) {
        const entry = this.#objects.get(key);
        if (entry === undefined) continue; // deleted while the caller was reading the page
        yield { key, size: entry.body.length, mtime: entry.mtime };
        left--;
      }
      if (page.length < PAGE_SIZE) return;
      cursor = page[page.length - 1];
    }
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
