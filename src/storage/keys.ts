/**
 * Object keys of slice blocks, spec §D.1/§D.2. blockKey() is the ONE function that lays a block
 * out as a key; everything else (deletion, gc, compression's length lookup) goes through it or its
 * inverse parseBlockKey(). Keys here are relative to the volume prefix `<Name>/` (withPrefix adds it).
 * Slice ids are plain u64 bigints: storage must not import meta's branded types.
 */
import { Errno, FsError } from '../util/errno.js';

export interface BlockKeyParts {
  sliceId: bigint;
  blockIndex: number;
  blockLen: number;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * `chunks/<id/1e6>/<id/1000>/<id>_<index>_<len>`, or with `hashPrefix`
 * `chunks/<id%256 as two upper-case hex digits>/<id/1e6>/<id>_<index>_<len>` (integer division).
 */
export function blockKey(sliceId: bigint, blockIndex: number, blockLen: number, hashPrefix = false): string {
  if (sliceId < 0n || sliceId > U64_MAX) throw new FsError(Errno.EINVAL, `slice id ${sliceId} is not a u64`);
  if (!Number.isSafeInteger(blockIndex) || blockIndex < 0) throw new FsError(Errno.EINVAL, `bad block index ${blockIndex}`);
  if (!Number.isSafeInteger(blockLen) || blockLen < 0) throw new FsError(Errno.EINVAL, `bad block length ${blockLen}`);
  const name = `${sliceId}_${blockIndex}_${blockLen}`;
  if (hashPrefix) {
    const hash = (sliceId % 256n).toString(16).toUpperCase().padStart(2, '0');
    return `chunks/${hash}/${sliceId / 1_000_000n}/${name}`;
  }
  return `chunks/${sliceId / 1_000_000n}/${sliceId / 1000n}/${name}`;
}

const BLOCK_NAME = /^(\d+)_(\d+)_(\d+)$/;

/**
 * The slice id, block index and block length encoded in the last segment of `key` (any layout,
 * with or without the volume prefix); undefined when the key is not a block key.
 */
export function parseBlockKey(key: string): BlockKeyParts | undefined {
  const m = BLOCK_NAME.exec(key.slice(key.lastIndexOf('/') + 1));
  if (m === null) return undefined;
  const [, id, index, len] = m;
  if (id === undefined || index === undefined || len === undefined) return undefined;
  const sliceId = BigInt(id);
  const blockIndex = Number(index);
  const blockLen = Number(len);
  if (sliceId > U64_MAX || !Number.isSafeInteger(blockIndex) || !Number.isSafeInteger(blockLen)) return undefined;
  return { sliceId, blockIndex, blockLen };
}

/**
 * Keys of every block of a slice of `sliceSize` bytes cut into `blockSizeBytes` blocks (spec §D.1,
 * §D.5): block i holds bytes [i*B, min((i+1)*B, size)); a slice of size 0 has no blocks.
 */
export function sliceBlockKeys(sliceId: bigint, sliceSize: number, blockSizeBytes: number, hashPrefix = false): string[] {
  if (!Number.isSafeInteger(blockSizeBytes) || blockSizeBytes <= 0) throw new FsError(Errno.EINVAL, `bad block size ${blockSizeBytes}`);
  if (!Number.isSafeInteger(sliceSize) || sliceSize < 0) throw new FsError(Errno.EINVAL, `bad slice size ${sliceSize}`);
  const keys: string[] = [];
  for (let i = 0; i * blockSizeBytes < sliceSize; i++) {
    keys.push(blockKey(sliceId, i, Math.min(blockSizeBytes, sliceSize - i * blockSizeBytes), hashPrefix));
  }
  return keys;
}
