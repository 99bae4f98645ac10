/**
 * An ObjectStore built on first use: the backend's module (the AWS SDK for S3: tens of MiB of
 * code and memory) is only loaded when a call needs it, so a process serving a volume on another
 * store never loads it. A failed load is reported by that call and tried again by the next one.
 */
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../object-store.js';

export class LazyObjectStore implements ObjectStore {
  readonly description: string;
  readonly #load: () => Promise<ObjectStore>;
  #store: Promise<ObjectStore> | undefined;

  constructor(description: string, load: () => Promise<ObjectStore>) {
    this.description = description;
    this.#load = load;
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    return (await this.#inner()).get(key, range, signal);
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    return (await this.#inner()).put(key, body, signal);
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    return (await this.#inner()).delete(key, signal);
  }

  async head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    return (await this.#inner()).head(key, signal);
  }

  async *list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    yield* (await this.#inner()).list(prefix, opts);
  }

  async close(): Promise<void> {
    const store = this.#store;
    this.#store = undefined;
    if (store !== undefined) await (await store).close();
  }

  #inner(): Promise<ObjectStore> {
    if (this.#store === undefined) {
      const loading = this.#load();
      this.#store = loading;
      loading.catch(() => { if (this.#store === loading) this.#store = undefined; });
    }
    return this.#store;
  }
}
