/**
 * Block codecs framed exactly as JuiceFS stores compressed blocks (spec §D.3): `lz4` is the LZ4
 * raw block format (no frame, no length prefix; the reader must know the uncompressed length),
 * `zstd` is one standard zstd frame at level 1. lz4 comes from lz4_flex compiled to wasm
 * (lz4-wasm-nodejs, whose API adds a 4-byte little-endian length we strip and re-add); zstd from
 * the reference C library (@cloudpss/zstd: bundled native build, wasm fallback). Codecs are pure.
 */
import * as zstd from '@cloudpss/zstd';
import lz4 from 'lz4-wasm-nodejs';
import { Errno, FsError } from '../util/errno.js';

export type CompressionAlgo = 'lz4' | 'zstd';

export interface BlockCodec {
  readonly name: CompressionAlgo;
  /** The object body for one block. */
  compress(block: Buffer): Buffer;
  /** The block back from an object body; EIO unless it decodes to exactly `blockLen` bytes. */
  decompress(body: Buffer, blockLen: number): Buffer;
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function corrupt(name: string, detail: string, cause?: unknown): FsError {
  return new FsError(Errno.EIO, `${name} block does not decode: ${detail}`, cause === undefined ? undefined : { cause });
}

export const lz4Block: BlockCodec = {
  name: 'lz4',
  compress(block) {
    const out = lz4.compress(block);
    return asBuffer(out).subarray(4);
  },
  decompress(body, blockLen) {
    // JuiceFS refuses an empty body too: even an empty block compresses to one token byte.
    if (body.length === 0) throw corrupt('lz4', 'empty object');
    const framed = Buffer.allocUnsafe(4 + body.length);
    framed.writeUInt32LE(blockLen, 0);
    body.copy(framed, 4);
    let out: Uint8Array;
    try {
      out = lz4.decompress(framed);
    } catch (err) {
      throw corrupt('lz4', String(err), err);
    }
    if (out.length !== blockLen) throw corrupt('lz4', `${out.length} bytes, expected ${blockLen}`);
    return asBuffer(out);
  },
};

/** JuiceFS compresses with zstd level 1 (fastest). */
const ZSTD_LEVEL = 1;

export const zstdFrame: BlockCodec = {
  name: 'zstd',
  compress(block) {
    return asBuffer(zstd.compress(block, ZSTD_LEVEL));
  },
  decompress(body, blockLen) {
    let out: Uint8Array;
    try {
      out = zstd.decompress(body);
    } catch (err) {
      throw corrupt('zstd', String(err), err);
    }
    if (out.length !== blockLen) throw corrupt('zstd', `${out.length} bytes, expected ${blockLen}`);
    return asBuffer(out);
  },
};

/** The codec for a Format.Compression value; undefined for none/""; EINVAL for unknown names. */
export function codecFor(name: string | undefined): BlockCodec | undefined {
  const n = (name ?? '').toLowerCase();
  if (n === '' || n === 'none') return undefined;
  if (n === 'lz4') return lz4Block;
  if (n === 'zstd') return zstdFrame;
  throw new FsError(Errno.EINVAL, `unknown compression ${JSON.stringify(name)} (expected none, lz4 or zstd)`);
}
