/**
 * withShards: spreads objects over N stores (spec §A.2). The shard of a key is
 * FNV-1a-32(UTF-8 bytes of the full key, `<Name>/` included) mod N, so this decorator must sit
 * inside withPrefix. Listing merges the N sorted listings into one sorted stream.
 */
import { Errno, FsError } from '../../util/errno.js';
import { compareKeys, readIntoOf, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore } from '../object-store.js';

/** JuiceFS allows at most this many shards. */
export const MAX_SHARDS = 256;

/** 32-bit FNV-1a over the UTF-8 bytes of `key` (Go's hash/fnv New32a). */
export function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Index of the shard that holds `key` among `shards` stores. */
export function shardIndex(key: string, shards: number): number {
  return fnv1a32(key) % shards;
}

export function withShards(stores: readonly ObjectStore[]): ObjectStore {
  if (stores.length === 0 || stores.length > MAX_SHARDS) {
    throw new FsError(Errno.EINVAL, `shard count ${stores.length} outside 1..${MAX_SHARDS}`);
  }
  if (stores.length === 1 && stores[0] !== undefined) return stores[0];
  const pick = (key: string): ObjectStore => {
    const store = stores[shardIndex(key, stores.length)];
    if (store === undefined) throw new FsError(Errno.EIO, `no shard for ${key}`);
    return store;
  };
  const inPlace = stores.every((s) => s.readInto !== undefined);
  return {
    ...(inPlace ? { readInto: (key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal) => readIntoOf(pick(key), key, range, dest, signal) } : {}),
    description: `shards(${stores.length})[${stores.map((s) => s.description).join(', ')}]`,
    get: (key: string, range?: ByteRange, signal?: AbortSignal) => pick(key).get(key, range, signal),
    put: (key: string, body: Buffer, signal?: AbortSignal) => pick(key).put(key, body, signal),
    delete: (key: string, signal?: AbortSignal) => pick(key).delete(key, signal),
    head: (key: string, signal?: AbortSignal) => pick(key).head(key, signal),
    list: (prefix: string, opts: ListOptions = {}) => mergeSorted(stores.map((s) => s.list(prefix, opts)), opts.limit),
    async close() {
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

/** K-way merge of sorted listings; each source is read one item ahead. */
async function* mergeSorted(sources: AsyncIterable<ObjectInfo>[], limit = Infinity): AsyncGenerator<ObjectInfo> {
  const iters = sources.map((s) => s[Symbol.asyncIterator]());
  const heads: (ObjectInfo | undefined)[] = [];
  try {
    for (const it of iters) {
      const r = await it.next();
      heads.push(r.done === true ? undefined : r.value);
    }
    for (let n = 0; n < limit; n++) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        const b = best < 0 ? undefined : heads[best];
        if (h !== undefined && (b === undefined || compareKeys(h.key, b.key) < 0)) best = i;
      }
      const it = iters[best];
      const item = heads[best];
      if (it === undefined || item === undefined) return;
      yield item;
      const r = await it.next();
      heads[best] = r.done === true ? undefined : r.value;
    }
  } finally {
    await Promise.all(iters.map((it) => it.return?.()));
  }
}
