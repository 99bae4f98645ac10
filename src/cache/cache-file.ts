/**
 * The local file format of a cached or staged block: the block bytes, then one CRC-32C per 32 KiB
 * part (u32 BE each), then a 12-byte footer `u32 tableCrc, u32 blockLen, u32 magic "FYC1"` (all BE).
 * A ranged read verifies only the parts it touches. Local to one appliance, never shared or
 * uploaded (the object store gets the bare block), and not JuiceFS's cache format (research (a)).
 */
import { crc32c } from '@node-rs/crc32';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { ByteRange } from '../storage/object-store.js';
import { preadFully } from '../util/cached-read.js';

/** Bytes covered by one checksum. */
export const PART_BYTES = 32 * 1024;
const FOOTER_BYTES = 12;
const MAGIC = 0x46594331; // "FYC1"
/** Largest block the u32 length field can describe. */
export const MAX_BLOCK_BYTES = 0xffff_ffff;

const partsOf = (blockLen: number): number => Math.ceil(blockLen / PART_BYTES);

/** Size on disk of a block of `blockLen` bytes in this format. */
export function fileSizeFor(blockLen: number): number {
  return blockLen + 4 * partsOf(blockLen) + FOOTER_BYTES;
}

/** The checksum table and footer to write right after `body`. */
export function encodeTrailer(body: Buffer): Buffer {
  const parts = partsOf(body.length);
  const trailer = Buffer.allocUnsafe(4 * parts + FOOTER_BYTES);
  for (let i = 0; i < parts; i++) {
    trailer.writeUInt32BE(crc32c(body.subarray(i * PART_BYTES, (i + 1) * PART_BYTES)), 4 * i);
  }
  const table = trailer.subarray(0, 4 * parts);
  trailer.writeUInt32BE(crc32c(table), 4 * parts);
  trailer.writeUInt32BE(body.length, 4 * parts + 4);
  trailer.writeUInt32BE(MAGIC, 4 * parts + 8);
  return trailer;
}

/** Why a cache file was refused; the caller logs it and drops the file. */
export class CorruptCacheFile extends Error {
  override readonly name = 'CorruptCacheFile';
}

/**
 * Reads `range` of the block stored in the open file `fh` (the whole block when absent), extending
 * the read to part boundaries and verifying those parts. Short at the end of the block, empty past
 * it (ObjectStore.get semantics). Throws CorruptCacheFile on a bad footer, a size that does not
 * match the footer (truncated or extended file) or a checksum mismatch.
 */
export async function readVerified(fh: FileHandle, range?: ByteRange): Promise<Buffer> {
  return readVerifiedFd(fh.fd, (await fh.stat()).size, range);
}

/** readVerified of a raw descriptor of a file of `size` bytes (from an index: no stat). */
export async function readVerifiedFd(fd: number, size: number, range: ByteRange | undefined): Promise<Buffer> {
  if (size < FOOTER_BYTES) throw new CorruptCacheFile(`file of ${size} bytes is shorter than the footer`);
  // The table has fewer than size/PART_BYTES + 1 entries, so this one read holds table and footer.
  const tailLen = Math.min(size, FOOTER_BYTES + 4 * (Math.floor(size / PART_BYTES) + 1));
  // a whole block is one read of the whole file (block, table and footer)
  const file = range === undefined ? await readExactly(fd, 0, size) : undefined;
  const tail = file?.subarray(size - tailLen) ?? await readExactly(fd, size - tailLen, tailLen);
  const footer = tail.subarray(tailLen - FOOTER_BYTES);
  if (footer.readUInt32BE(8) !== MAGIC) throw new CorruptCacheFile('bad footer magic');
  const blockLen = footer.readUInt32BE(4);
  if (fileSizeFor(blockLen) !== size) throw new CorruptCacheFile(`size ${size} does not fit a block of ${blockLen} bytes`);
  const parts = partsOf(blockLen);
  const table = tail.subarray(tailLen - FOOTER_BYTES - 4 * parts, tailLen - FOOTER_BYTES);
  if (crc32c(table) !== footer.readUInt32BE(0)) throw new CorruptCacheFile('checksum table does not match its checksum');

  const start = Math.min(range?.offset ?? 0, blockLen);
  const end = range === undefined ? blockLen : Math.min(blockLen, start + range.length);
  if (start >= end) return Buffer.alloc(0);
  const firstPart = Math.floor(start / PART_BYTES);
  const lastPart = Math.floor((end - 1) / PART_BYTES);
  const readStart = firstPart * PART_BYTES;
  const data = file?.subarray(0, blockLen) ?? await readExactly(fd, readStart, Math.min(blockLen, (lastPart + 1) * PART_BYTES) - readStart);
  for (let p = firstPart; p <= lastPart; p++) {
    const at = (p - firstPart) * PART_BYTES;
    if (crc32c(data.subarray(at, at + PART_BYTES)) !== table.readUInt32BE(4 * p)) {
      throw new CorruptCacheFile(`checksum mismatch in part ${p}`);
    }
  }
  return data.subarray(start - readStart, end - readStart);
}

/** Opens `path` and reads it with readVerified; undefined when the file does not exist. */
export async function readCacheFile(path: string, range?: ByteRange): Promise<{ data: Buffer; fileSize: number } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    return { data: await readVerifiedFd(fh.fd, size, range), fileSize: size };
  } finally {
    await fh.close();
  }
}

async function readExactly(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const got = await preadFully(fd, buf, position);
  if (got < length) throw new CorruptCacheFile(`file ended ${length - got} bytes early`);
  return buf;
}
