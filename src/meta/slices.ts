/**
 * Slice-list arithmetic shared by engines and vfs (spec §E.2, §B.9): newest-wins resolution of a
 * chunk's stored records, the hole records truncate appends, and the records a clone appends.
 * Pure functions over SliceRecord; no I/O.
 */
import { CHUNK_SIZE, type SliceId, type SliceRecord, toChunkIndex, type ChunkIndex, toSliceId } from './types.js';

/** A visible piece of a chunk: [start, end) shows slice `id` from offset `off` (id 0 = zeros). */
export interface Piece {
  start: number;
  end: number;
  id: SliceId;
  size: number;
  off: number;
}

const HOLE = toSliceId(0);

/** Resolves stored records (oldest first) over [from, to) of one chunk; pieces cover the range in order. */
export function resolveChunk(records: readonly SliceRecord[], from = 0, to = CHUNK_SIZE): Piece[] {
  let pieces: Piece[] = [{ start: from, end: to, id: HOLE, size: 0, off: 0 }];
  for (const r of records) {
    const rs = Math.max(r.pos, from);
    const re = Math.min(r.pos + r.len, to);
    if (rs >= re) continue;
    const next: Piece[] = [];
    for (const p of pieces) {
      if (p.end <= rs || p.start >= re) {
        next.push(p);
        continue;
      }
      if (p.start < rs) next.push({ ...p, end: rs });
      if (re < p.end) next.push({ ...p, start: re, off: p.id === HOLE ? 0 : p.off + (re - p.start) });
    }
    next.push({ start: rs, end: re, id: r.id, size: r.id === HOLE ? 0 : r.size, off: r.id === HOLE ? 0 : r.off + (rs - r.pos) });
    next.sort((a, b) => a.start - b.start);
    pieces = next;
  }
  return pieces;
}

/**
 * Hole records that hide everything in [min(a,b), max(a,b)) (spec §B.9): one in the chunk of the
 * smaller offset, full-chunk ones in between (`onlyIfExists`: append only to an existing list),
 * and one in the partial chunk of the larger offset.
 */
export function truncateHoles(a: number, b: number): { indx: ChunkIndex; record: SliceRecord; onlyIfExists: boolean }[] {
  const left = Math.min(a, b);
  const right = Math.max(a, b);
  if (left === right) return [];
  const out: { indx: ChunkIndex; record: SliceRecord; onlyIfExists: boolean }[] = [];
  const first = Math.floor(left / CHUNK_SIZE);
  const firstEnd = Math.min(right, (first + 1) * CHUNK_SIZE);
  out.push({ indx: toChunkIndex(first), record: hole(left - first * CHUNK_SIZE, firstEnd - left), onlyIfExists: false });
  const last = Math.floor(right / CHUNK_SIZE);
  for (let i = first + 1; i < last; i++) out.push({ indx: toChunkIndex(i), record: hole(0, CHUNK_SIZE), onlyIfExists: true });
  if (last > first && right % CHUNK_SIZE > 0) out.push({ indx: toChunkIndex(last), record: hole(0, right % CHUNK_SIZE), onlyIfExists: false });
  return out;
}

function hole(pos: number, len: number): SliceRecord {
  return { pos, id: HOLE, size: 0, off: 0, len };
}

/**
 * Records to append to the destination's chunks so that [dstOff, dstOff+length) shows what the
 * source shows at [srcOff, srcOff+length): referenced slices and hole records for zeros.
 * `srcChunk` returns the source's stored list of a chunk index. Result in append order.
 */
export function planClone(
  srcChunk: (indx: ChunkIndex) => readonly SliceRecord[], srcOff: number, dstOff: number, length: number,
): { indx: ChunkIndex; record: SliceRecord }[] {
  const out: { indx: ChunkIndex; record: SliceRecord }[] = [];
  let done = 0;
  while (done < length) {
    const s = srcOff + done;
    const d = dstOff + done;
    const sPos = s % CHUNK_SIZE;
    const dPos = d % CHUNK_SIZE;
    const n = Math.min(length - done, CHUNK_SIZE - sPos, CHUNK_SIZE - dPos);
    const indx = toChunkIndex(Math.floor(d / CHUNK_SIZE));
    for (const p of resolveChunk(srcChunk(toChunkIndex(Math.floor(s / CHUNK_SIZE))), sPos, sPos + n)) {
      out.push({ indx, record: { pos: dPos + (p.start - sPos), id: p.id, size: p.size, off: p.off, len: p.end - p.start } });
    }
    done += n;
  }
  return out;
}
