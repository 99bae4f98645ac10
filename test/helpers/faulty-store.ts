/**
 * Fault injection as an ObjectStore decorator (STYLE.md §9): fails the next calls of one
 * operation with a given error, or breaks a listing after some items, and counts every call.
 * Not a mock: all other calls reach a real store.
 */
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../../src/storage/object-store.js';

type Op = 'get' | 'put' | 'delete' | 'head' | 'list';

export class FaultyStore implements ObjectStore {
  readonly description: string;
  readonly calls: Record<Op, number> = { get: 0, put: 0, delete: 0, head: 0, list: 0 };
  readonly #inner: ObjectStore;
  readonly #fail: Record<Op, unknown[]> = { get: [], put: [], delete: [], head: [], list: [] };
  #listBreaks: { after: number; err: unknown }[] = [];

  constructor(inner: ObjectStore) {
    this.#inner = inner;
    this.description = `faulty(${inner.description})`;
  }

  /** The next `times` calls of `op` throw `err` before reaching the store. */
  failNext(op: Op, times: number, err: unknown): void {
    for (let i = 0; i < times; i++) this.#fail[op].push(err);
  }

  /** The next listing throws `err` after delivering `after` items. */
  breakNextListAfter(after: number, err: unknown): void {
    this.#listBreaks.push({ after, err });
  }

  #enter(op: Op): void {
    this.calls[op]++;
    const err = this.#fail[op].shift();
    if (err !== undefined) throw err;
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    this.#enter('get');
    return this.#inner.get(key, range, signal);
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    this.#enter('put');
    return this.#inner.put(key, body, signal);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    this.#enter('delete');
    return this.#inner.delete(key, signal);
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    this.#enter('head');
    return this.#inner.head(key, signal);
  }

  async *list(prefix: string, opts?: ListOptions): AsyncGenerator<ObjectInfo> {
    this.#enter('list');
    const brk = this.#listBreaks.shift();
    let n = 0;
    for await (const info of this.#inner.list(prefix, opts)) {
      if (brk !== undefined && n++ === brk.after) throw brk.err;
      yield info;
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
