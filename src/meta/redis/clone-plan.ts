/**
 * Plans copy_file_range by reference (spec §B.9 "copy_file_range / clone", §E.2): resolves the source
 * chunks newest-wins and turns the visible pieces of [srcOff, srcOff+length) into records appended to
 * the destination chunks (holes become id-0 records so old destination data is covered). Pure: the
 * engine reads the lists, and its script re-checks them before writing the plan.
 */
import { type SliceRecord, CHUNK_SIZE, toSliceId } from '../types.js';

/** A visible piece of a chunk: [pos, pos+len) shows slice `id` from offset `off` (id 0 = zeros). */
export interface ChunkPiece {
  pos: number;
  len: number;
  id: bigint;
  size: number;
  off: number;
}

/** Resolves a stored slice list (oldest first) into non-overlapping pieces covering [0, CHUNK_SIZE). */
export function resolveChunk(list: readonly SliceRecord[]): ChunkPiece[] {
  let pieces: ChunkPiece[] = [{ pos: 0, len: CHUNK_SIZE, id: 0n, size: 0, off: 0 }];
  for (const r of list) {
    if (r.len <= 0 || r.pos >= CHUNK_SIZE) continue;
    const start = r.pos;
    const end = Math.min(r.pos + r.len, CHUNK_SIZE);
    const next: ChunkPiece[] = [];
    let inserted = false;
    for (const p of pieces) {
      const pEnd = p.pos + p.len;
      if (pEnd <= start || p.pos >= end) {
        if (!inserted && p.pos >= end) {
          next.push({ pos: start, len: end - start, id: r.id, size: r.size, off: r.off });
          inserted = true;
        }
        next.push(p);
        continue;
      }
      if (p.pos < start) next.push({ ...p, len: start - p.pos });
      if (!inserted) {
        next.push({ pos: start, len: end - start, id: r.id, size: r.size, off: r.off });
        inserted = true;
      }
      if (pEnd > end) next.push({ ...p, pos: end, len: pEnd - end, off: p.id === 0n ? 0 : p.off + (end - p.pos) });
    }
    if (!inserted) next.push({ pos: start, len: end - start, id: r.id, size: r.size, off: r.off });
    pieces = next;
  }
  return pieces;
}

export interface ClonePlan {
  /** Records to append, per destination chunk index, in order. */
  dst: Map<number, SliceRecord[]>;
  /** One entry per appended data record: the slice whose reference count goes up by one. */
  refs: { id: bigint; size: number }[];
}

/** Source chunk indexes a clone of [srcOff, srcOff+length) reads. */
export function cloneSourceChunks(srcOff: number, length: number): number[] {
  if (length <= 0) return [];
  const out: number[] = [];
  for (let i = Math.floor(srcOff / CHUNK_SIZE); i <= Math.floor((srcOff + length - 1) / CHUNK_SIZE); i++) out.push(i);
  return out;
}

/** Builds the destination records for a clone, given the source lists by chunk index. */
export function planClone(src: ReadonlyMap<number, readonly SliceRecord[]>, srcOff: number, dstOff: number, length: number): ClonePlan {
  const plan: ClonePlan = { dst: new Map(), refs: [] };
  const srcEnd = srcOff + length;
  const emit = (dOff: number, id: bigint, size: number, off: number, len: number): void => {
    // split at destination chunk boundaries
    while (len > 0) {
      const indx = Math.floor(dOff / CHUNK_SIZE);
      const pos = dOff - indx * CHUNK_SIZE;
      const n = Math.min(len, CHUNK_SIZE - pos);
      const rec: SliceRecord = id === 0n
        ? { pos, id: toSliceId(0n), size: 0, off: 0, len: n }
        : { pos, id: toSliceId(id), size, off, len: n };
      let list = plan.dst.get(indx);
      if (list === undefined) plan.dst.set(indx, list = []);
      list.push(rec);
      if (id !== 0n) plan.refs.push({ id, size });
      dOff += n;
      off += n;
      len -= n;
    }
  };
  for (const indx of cloneSourceChunks(srcOff, length)) {
    const base = indx * CHUNK_SIZE;
    for (const p of resolveChunk(src.get(indx) ?? [])) {
      const a = Math.max(base + p.pos, srcOff);
      const b = Math.min(base + p.pos + p.len, srcEnd);
      if (a >= b) continue;
      emit(a - srcOff + dstOff, p.id, p.size, p.off + (a - (base + p.pos)), b - a);
    }
  }
  return plan;
}
