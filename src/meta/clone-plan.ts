/**
 * Engine-agnostic planning for clone/copy_file_range (spec §B.9, §E.2): resolves a source chunk's
 * stored slice list newest-wins into contiguous pieces, then cuts the pieces that cover the
 * copied range into records to append to the destination's chunks. Holes are copied as hole
 * records (id 0, size 0, off 0) so they overwrite whatever the destination had there.
 * Pure functions; engines apply the plan and bump refcounts of every id > 0 they append.
 */
import { CHUNK_SIZE, type ChunkIndex, type SliceRecord, toChunkIndex, toSliceId } from './types.js';

/** One visible piece of a chunk: bytes [pos, pos+len) come from slice `id` at offset `off`. */
export type Piece = SliceRecord;

/** Resolves a chunk's records (oldest first) into pieces covering [0, CHUNK_SIZE), holes as id 0. */
export function resolveChunk(records: readonly SliceRecord[]): Piece[] {
  let pieces: Piece[] = [{ pos: 0, id: toSliceId(0), size: 0, off: 0, len: CHUNK_SIZE }];
  for (const r of records) {
    if (r.len <= 0) continue;
    const start = r.pos;
    const end = Math.min(r.pos + r.len, CHUNK_SIZE);
    const next: Piece[] = [];
    for (const p of pieces) {
      const pEnd = p.pos + p.len;
      if (pEnd <= start || p.pos >= end) {
        next.push(p);
        continue;
      }
      if (p.pos < start) next.push({ ...p, len: start - p.pos });
      if (pEnd > end) next.push({ ...p, pos: end, off: p.id === 0n ? 0 : p.off + (end - p.pos), len: pEnd - end });
    }
    next.push({ pos: start, id: r.id, size: r.size, off: r.id === 0n ? 0 : r.off, len: end - start });
    next.sort((a, b) => a.pos - b.pos);
    pieces = next;
  }
  return pieces;
}

export interface CloneAppend {
  indx: ChunkIndex;
  record: SliceRecord;
}

/**
 * Records to append to the destination so that [dstOff, dstOff+length) reads like
 * [srcOff, srcOff+length) of the source. `length` must already be clipped to the source length.
 * `chunkOf(indx)` returns the source's stored list of that chunk (empty when none).
 */
export function planClone(
  chunkOf: (indx: ChunkIndex) => readonly SliceRecord[],
  srcOff: number,
  dstOff: number,
  length: number,
): CloneAppend[] {
  const out: CloneAppend[] = [];
  const srcEnd = srcOff + length;
  for (let base = Math.floor(srcOff / CHUNK_SIZE) * CHUNK_SIZE; base < srcEnd; base += CHUNK_SIZE) {
    for (const p of resolveChunk(chunkOf(toChunkIndex(base / CHUNK_SIZE)))) {
      const start = Math.max(base + p.pos, srcOff);
      const end = Math.min(base + p.pos + p.len, srcEnd);
      if (start >= end) continue;
      const hole = p.id === 0n;
      let off = hole ? 0 : p.off + (start - base - p.pos);
      let dst = start - srcOff + dstOff;
      let len = end - start;
      while (len > 0) {
        const dpos = dst % CHUNK_SIZE;
        const take = Math.min(len, CHUNK_SIZE - dpos);
        out.push({
          indx: toChunkIndex(Math.floor(dst / CHUNK_SIZE)),
          record: { pos: dpos, id: p.id, size: hole ? 0 : p.size, off, len: take },
        });
        dst += take;
        len -= take;
        if (!hole) off += take;
      }
    }
  }
  return out;
}
