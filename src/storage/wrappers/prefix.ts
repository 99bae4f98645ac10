/**
 * withPrefix: every key gets a fixed prefix on the way in and loses it on the way out; the volume
 * uses it for `<Name>/` (spec §A, §D.2). Listing order is unchanged because all keys share the prefix.
 * It must not touch bodies.
 */
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../object-store.js';

export function withPrefix(store: ObjectStore, prefix: string): ObjectStore {
  if (prefix === '') return store;
  const readInto = store.readInto?.bind(store);
  return {
    description: `${store.description}+prefix(${prefix})`,
    get: (key: string, range?: ByteRange, signal?: AbortSignal) => store.get(prefix + key, range, signal),
    ...(readInto === undefined ? {} : { readInto: (key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal) => readInto(prefix + key, range, dest, signal) }),
    put: (key: string, body: Buffer, signal?: AbortSignal) => store.put(prefix + key, body, signal),
    delete: (key: string, signal?: AbortSignal) => store.delete(prefix + key, signal),
    head: (key: string, signal?: AbortSignal) => store.head(prefix + key, signal),
    async *list(p: string, opts: ListOptions = {}): AsyncGenerator<ObjectInfo> {
      const inner: ListOptions = { ...opts };
      if (opts.startAfter !== undefined) inner.startAfter = prefix + opts.startAfter;
      for await (const info of store.list(prefix + p, inner)) {
        yield { ...info, key: info.key.slice(prefix.length) };
      }
    },
    close: () => store.close(),
  };
}
