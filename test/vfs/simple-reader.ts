/**
 * A deliberately simple second reader of the volume format, written from spec §B.5.3, §D.1, §D.2
 * and §E.2 alone and sharing no code with src/vfs or src/storage/keys: it paints each chunk's slice
 * records oldest first, byte by byte, then fetches every block by a key it builds itself and checks
 * that each object is exactly its block length (§I). Slow on purpose; for small test files only.
 */
import type { Meta } from '../../src/meta/meta.js';
import { type Ino, type SliceRecord, toChunkIndex } from '../../src/meta/types.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

const CHUNK = 64 * 1024 * 1024;

/** Relative object key of block `index` of slice `id` with `size` bytes (spec §D.2, default layout). */
export function specKey(id: bigint, size: number, index: number, blockSize: number): string {
  const len = Math.min(blockSize, size - index * blockSize);
  return `chunks/${id / 1_000_000n}/${id / 1000n}/${id}_${index}_${len}`;
}

/** The whole file `ino` as the spec says a client must read it. */
export async function readFileBySpec(meta: Meta, store: ObjectStore, ino: Ino, blockSize: number): Promise<Buffer> {
  const length = (await meta.getattr(ino)).length;
  const out = Buffer.alloc(length);
  const blocks = new Map<string, Buffer>();
  for (let indx = 0; indx * CHUNK < length; indx++) {
    const visible = Math.min(CHUNK, length - indx * CHUNK);
    const records: SliceRecord[] = await meta.readSlices(ino, toChunkIndex(indx));
    const owner = new Int32Array(visible).fill(-1); // index of the record that painted each byte last
    records.forEach((r, i) => {
      for (let x = r.pos; x < Math.min(r.pos + r.len, visible); x++) owner[x] = i;
    });
    for (let x = 0; x < visible; x++) {
      const r = records[owner[x] ?? -1];
      if (r === undefined || r.id === 0n) continue;
      const inSlice = r.off + (x - r.pos);
      const index = Math.floor(inSlice / blockSize);
      const key = specKey(r.id, r.size, index, blockSize);
      let block = blocks.get(key);
      if (block === undefined) {
        block = await store.get(key);
        const want = Math.min(blockSize, r.size - index * blockSize);
        if (block.length !== want) throw new Error(`object ${key} has ${block.length} bytes, its key says ${want}`);
        blocks.set(key, block);
      }
      out[indx * CHUNK + x] = block[inSlice - index * blockSize] ?? 0;
    }
  }
  return out;
}
