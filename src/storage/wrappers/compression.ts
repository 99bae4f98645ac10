/**
 * withCompression: compresses block objects on put and decompresses them on get (spec §D.3).
 * Only keys whose last segment is `<id>_<index>_<len>` are blocks; the uncompressed length comes
 * from that suffix. Any other key (`juicefs_uuid`, `meta/dump-*`) passes through raw, as JuiceFS
 * writes them. A ranged get fetches the whole object and slices; sizes reported are uncompressed.
 */
import { Errno, FsError } from '../../util/errno.js';
import { codecFor, type BlockCodec, type CompressionAlgo } from '../codecs.js';
import { parseBlockKey } from '../keys.js';
import { checkRange, sliceRange, type ByteRange, type ListOptions, type ObjectInfo, type ObjectStore } from '../object-store.js';

export function withCompression(store: ObjectStore, algo: CompressionAlgo | BlockCodec): ObjectStore {
  const codec = typeof algo === 'string' ? codecFor(algo) : algo;
  if (codec === undefined) return store;
  return {
    description: `${store.description}+${codec.name}`,
    async get(key: string, range?: ByteRange, signal?: AbortSignal) {
      const block = parseBlockKey(key);
      if (block === undefined) return store.get(key, range, signal);
      if (range !== undefined) checkRange(range, key);
      const body = await store.get(key, undefined, signal);
      try {
        return sliceRange(codec.decompress(body, block.blockLen), range);
      } catch (err) {
        if (err instanceof FsError) throw new FsError(err.errno, `${key}: ${err.message.replace(/^E[A-Z]+: /, '')}`, { cause: err.cause });
        throw err;
      }
    },
    async put(key: string, body: Buffer, signal?: AbortSignal) {
      const block = parseBlockKey(key);
      if (block === undefined) return store.put(key, body, signal);
      if (body.length !== block.blockLen) {
        throw new FsError(Errno.EINVAL, `block ${key} names ${block.blockLen} bytes but the body has ${body.length}`);
      }
      return store.put(key, codec.compress(body), signal);
    },
    delete: (key: string, signal?: AbortSignal) => store.delete(key, signal),
    async head(key: string, signal?: AbortSignal) {
      const info = await store.head(key, signal);
      const block = parseBlockKey(key);
      return block === undefined ? info : { size: block.blockLen, mtime: info.mtime };
    },
    async *list(prefix: string, opts?: ListOptions): AsyncGenerator<ObjectInfo> {
      for await (const info of store.list(prefix, opts)) {
        const block = parseBlockKey(info.key);
        yield block === undefined ? info : { ...info, size: block.blockLen };
      }
    },
    close: () => store.close(),
  };
}
