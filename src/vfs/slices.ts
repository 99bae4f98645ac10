/**
 * Pure slice arithmetic of the data path: newest-wins resolution of a chunk (spec §E.2; the one
 * resolver is meta's resolveChunk, re-exported here so engines and vfs cannot disagree), the block
 * reads that serve a byte range (spec §D.1: block = (off + x − pos) / B), and the compaction plan
 * (spec §E.3). No I/O and no state: everything here is unit-tested in test/unit/vfs.
 */
import { resolveChunk, type Piece } from '../meta/slices.js';
import { CHUNK_SIZE, type SliceId, type SliceRecord } from '../meta/types.js';

export { resolveChunk, type Piece };

/** One ranged read of a block, landing at `dst` in the caller's buffer. */
export interface BlockRead {
  /** Slice id (never 0: holes need no read). */
  id: SliceId;
  /** Slice size (decides the block key). */
  size: number;
  /** Block index inside the slice. */
  index: number;
  /** Offset inside the block. */
  offset: number;
  /** Bytes to read. */
  length: number;
  /** Offset in the output buffer. */
  dst: number;
}

/** Pieces of `pieces` clipped to [from, to), adjacent pieces of one slice merged (holes dropped). */
export function visiblePieces(pieces: readonly Piece[], from: number, to: number): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const s = Math.max(p.start, from);
    const e = Math.min(p.end, to);
    if (s >= e || p.id === 0n) continue;
    const piece: Piece = { start: s, end: e, id: p.id, size: p.size, off: p.off + (s - p.start) };
    const last = out[out.length - 1];
    if (last !== undefined && last.id === piece.id && last.size === piece.size && last.end === piece.start && last.off + (last.end - last.start) === piece.off) {
      last.end = piece.end;
    } else {
      out.push(piece);
    }
  }
  return out;
}

/**
 * Block reads that fill the chunk bytes [from, to) into a zeroed buffer of `to − from` bytes:
 * holes need no read; each visible piece is cut at block boundaries of its slice.
 */
export function planChunkRead(pieces: readonly Piece[], from: number, to: number, blockSizeBytes: number): BlockRead[] {
  const reads: BlockRead[] = [];
  for (const p of visiblePieces(pieces, from, to)) {
    let at = p.off; // offset inside the slice
    let dst = p.start - from;
    const end = p.off + (p.end - p.start);
    while (at < end) {
      const index = Math.floor(at / blockSizeBytes);
      const offset = at - index * blockSizeBytes;
      const length = Math.min(blockSizeBytes - offset, end - at);
      reads.push({ id: p.id, size: p.size, index, offset, length, dst });
      at += length;
      dst += length;
    }
  }
  return reads;
}

/** Number of visible data pieces of a resolved chunk (compaction trigger on read, spec §E.3). */
export function dataPieceCount(pieces: readonly Piece[]): number {
  return visiblePieces(pieces, 0, CHUNK_SIZE).length;
}

/** Records read per compaction (spec §E.3). */
export const MAX_COMPACT_RECORDS = 1000;
/** A leading slice this large and this dominant is kept instead of rewritten (spec §E.3). */
const SKIP_MIN_BYTES = 1024 * 1024;

export interface CompactionPlan {
  /** The first `old.length` records of the list, as read; the engine replaces exactly these. */
  old: SliceRecord[];
  /** Leading records of `old` kept as they are (they stay in front of the new slice). */
  skipped: number;
  /** Chunk offset where the new slice starts: it holds the resolution of all of `old` over [start, end). */
  start: number;
  /** Chunk offset where the new slice ends (exclusive). */
  end: number;
  /** Pieces of that resolution over [start, end) (holes included; the new slice stores them as zeros). */
  pieces: Piece[];
}

/**
 * Plans one compaction of a chunk's stored list (oldest first), or returns null when it would not
 * reduce anything. Correctness argument: after the swap the list is skipped ++ [new] ++ rest; the new
 * slice shows, over [start, end), what all of `old` showed there, and outside [start, end) only the
 * skipped records ever painted, so every byte of the chunk reads as before.
 * `maxHoleBytes`: refuse plans that would store more zeros than this (sparse chunks stay sparse).
 */
export function planCompaction(list: readonly SliceRecord[], maxHoleBytes = 4 * SKIP_MIN_BYTES): CompactionPlan | null {
  const old = list.slice(0, MAX_COMPACT_RECORDS).map((r) => ({ ...r }));
  if (old.length < 2) return null;
  const full = resolveChunk(old);

  // Skip a prefix of large slices that are still mostly visible: rewriting them would copy a lot
  // and reclaim little.
  let skipped = 0;
  while (skipped < old.length - 2) {
    const r = old[skipped];
    if (r === undefined || r.id === 0n || r.len < SKIP_MIN_BYTES) break;
    const rest = old.slice(skipped);
    const lo = Math.min(...rest.map((x) => x.pos));
    const hi = Math.max(...rest.map((x) => x.pos + x.len));
    if (r.len * 5 < hi - lo) break;
    let visible = 0;
    for (const p of full) {
      if (p.id === r.id && p.size === r.size && p.off >= r.off && p.off < r.off + r.len) visible += p.end - p.start;
    }
    if (visible * 2 < r.len) break;
    skipped++;
  }
  const rest = old.slice(skipped);
  if (rest.length < 2) return null;

  // Range the remaining records paint, trimmed of edges where neither the full view nor the kept
  // records show data (there nothing changes when the new slice leaves the range out).
  let start = Math.min(...rest.map((r) => r.pos));
  let end = Math.max(...rest.map((r) => r.pos + r.len));
  const kept = resolveChunk(old.slice(0, skipped), start, end);
  const dataAt = (pieces: readonly Piece[]): { first: number; last: number } | null => {
    const vis = visiblePieces(pieces, start, end);
    const first = vis[0];
    const last = vis[vis.length - 1];
    return first === undefined || last === undefined ? null : { first: first.start, last: last.end };
  };
  const a = dataAt(resolveChunk(old, start, end));
  const b = dataAt(kept);
  if (a === null && b === null) {
    // everything in range reads as zeros: one hole-free plan is impossible, but records can still be
    // merged into a single zero slice only at the cost of storing zeros; leave such chunks alone
    return null;
  }
  start = Math.min(a?.first ?? Infinity, b?.first ?? Infinity);
  end = Math.max(a?.last ?? -Infinity, b?.last ?? -Infinity);
  const pieces = full.flatMap((p) => {
    const s = Math.max(p.start, start);
    const e = Math.min(p.end, end);
    return s < e ? [{ ...p, start: s, end: e, off: p.id === 0n ? 0 : p.off + (s - p.start) }] : [];
  });
  const holeBytes = pieces.filter((p) => p.id === 0n).reduce((n, p) => n + (p.end - p.start), 0);
  if (holeBytes > maxHoleBytes && holeBytes > (end - start) / 2) return null;
  return { old, skipped, start, end, pieces };
}
