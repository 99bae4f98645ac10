/**
 * Stable, resumable readdir positions for Redis directories (a `d<ino>` hash has no order), and a
 * bounded per-process cache of sorted directory snapshots so that consecutive pages cost O(page).
 *
 * Position of an entry = (h << 4) | rank, where h = the top 58 bits of FNV-1a-64(name bytes) (0 is
 * bumped to 1, so positions are >= 16 and never collide with `.`=1 / `..`=2) and rank (0..15) is the
 * entry's index among the live entries sharing the same h, ordered by raw name bytes. Listing order is
 * ascending position. A position depends only on the name (and, for a 58-bit hash collision, on the
 * other colliding names), so a client may resume from any position handed out, by any process,
 * after any changes: entries present for the whole listing are returned exactly once. The single
 * exception is a collision group whose membership changes between two pages while the client
 * resumes inside that group (ranks shift by one): probability per directory ~ n²/2^59, about 2e-8
 * for a million entries. More than 16 names with one 58-bit hash share the last rank (logged).
 *
 * Snapshots are plain arrays of the whole hash, sorted by position; local mutations are applied to
 * a cached snapshot (tombstones + a small sorted list of additions) instead of invalidating it.
 * This module does no I/O: the engine feeds it HSCAN results.
 */
import type { FileType, Ino } from '../types.js';
import { toIno } from '../types.js';

const RANK_BITS = 4n;
const MAX_RANK = 15;
/** Positions below this are reserved (`.` = 1, `..` = 2); every entry position is >= it. */
export const FIRST_POSITION = 16n;

/** A 58-bit name hash as [upper 26 bits, lower 32 bits], never [0, 0]. */
export type NameHash = (name: Uint8Array) => [number, number];

/** Top 58 bits of FNV-1a-64(name), as [upper 26 bits, lower 32 bits]; never 0. */
export function nameHash58(name: Uint8Array): [number, number] {
  // 64-bit FNV-1a with four 16-bit limbs (offset basis 0xcbf29ce484222325, prime 2^40 + 0x1b3)
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  for (let i = 0; i < name.length; i++) {
    h0 ^= name[i] ?? 0;
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3;
    const t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    const c1 = t1 + (t0 >>> 16);
    const c2 = t2 + (c1 >>> 16);
    h0 = t0 & 0xffff;
    h1 = c1 & 0xffff;
    h2 = c2 & 0xffff;
    h3 = (t3 + (c2 >>> 16)) & 0xffff;
  }
  const hi64 = ((h3 << 16) | h2) >>> 0;
  const lo64 = ((h1 << 16) | h0) >>> 0;
  const hi = hi64 >>> 6;
  const lo = (((hi64 & 0x3f) * 0x4000000) + (lo64 >>> 6)) >>> 0;
  if (hi === 0 && lo === 0) return [0, 1];
  return [hi, lo];
}

const LOW_BITS_SPAN = 1n << (32n + RANK_BITS);

function position(hi: number, lo: number, rank: number): bigint {
  // (hi << 36) | (lo << 4) | rank; the low 36 bits are exact as a number: two BigInts, not six
  return BigInt(hi) * LOW_BITS_SPAN + BigInt(lo * 16 + rank);
}

export interface ListedEntry {
  name: Buffer;
  ino: Ino;
  type: FileType;
  position: bigint;
}

interface Added {
  hi: number;
  lo: number;
  name: Buffer;
  ino: Ino;
  type: FileType;
}

const cmpHash = (ahi: number, alo: number, bhi: number, blo: number): number =>
  ahi !== bhi ? ahi - bhi : alo - blo;

const EMPTY = Buffer.alloc(0);

/**
 * Indices of the entries in (hash, name) order. A native sort of float keys does the bulk: each key
 * holds the index in its low bits under as many top hash bits as the 53-bit mantissa leaves, so
 * keys are distinct and the order is exact but for entries sharing those top bits; an insertion
 * pass with the exact comparison then fixes those few, nearly in place.
 */
function sortedOrder(hi: Uint32Array, lo: Uint32Array, names: readonly Buffer[]): Uint32Array {
  const n = hi.length;
  const idxBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const topBits = 53 - idxBits; // <= 52: hi holds 26 bits, lo the next 32
  const idxSpan = 2 ** idxBits;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = hi[i] ?? 0;
    const l = lo[i] ?? 0;
    const top = topBits >= 26 ? h * 2 ** (topBits - 26) + Math.floor(l / 2 ** (58 - topBits)) : Math.floor(h / 2 ** (26 - topBits));
    keys[i] = top * idxSpan + i;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = (keys[k] ?? 0) % idxSpan;
  const before = (a: number, b: number): boolean => {
    const c = cmpHash(hi[a] ?? 0, lo[a] ?? 0, hi[b] ?? 0, lo[b] ?? 0);
    return c !== 0 ? c < 0 : Buffer.compare(names[a] ?? EMPTY, names[b] ?? EMPTY) < 0;
  };
  for (let k = 1; k < n; k++) {
    const x = order[k] ?? 0;
    let j = k;
    while (j > 0 && before(x, order[j - 1] ?? 0)) {
      order[j] = order[j - 1] ?? 0;
      j--;
    }
    order[j] = x;
  }
  return order;
}

/** One directory's entries sorted by position, plus local changes made since it was read. */
export class DirSnapshot {
  readonly builtAt: number;
  readonly baseSize: number;
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  readonly #ino: BigUint64Array;
  readonly #type: Uint8Array;
  readonly #nameOff: Uint32Array;
  readonly #nameLen: Uint16Array;
  readonly #names: Buffer;
  /** Base entries (by latin1 name) hidden by a local unlink/rename/replace since the build. */
  readonly #removed = new Set<string>();
  /** Local additions since the build, sorted by (hash, name). */
  #added: Added[] = [];

  readonly #hash: NameHash;

  /**
   * Builds from the entries of an HSCAN; duplicate names (HSCAN may repeat one) are dropped.
   * `hash` is replaceable only so tests can force collisions.
   */
  constructor(pairs: readonly { name: Buffer; type: FileType; ino: Ino }[], builtAt: number, hash: NameHash = nameHash58) {
    this.builtAt = builtAt;
    this.#hash = hash;
    const n = pairs.length;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const names: Buffer[] = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) {
      const name = pairs[i]?.name ?? Buffer.alloc(0);
      names[i] = name;
      const [h, l] = hash(name);
      hi[i] = h;
      lo[i] = l;
    }
    const order = sortedOrder(hi, lo, names);
    // drop duplicates (adjacent after sorting), then lay the survivors out in position order
    const keep = new Uint32Array(n);
    let m = 0;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k] ?? 0;
      const prev = m > 0 ? keep[m - 1] ?? 0 : -1;
      if (prev >= 0 && hi[prev] === hi[i] && lo[prev] === lo[i] && (names[prev] ?? EMPTY).equals(names[i] ?? EMPTY)) continue;
      keep[m++] = i;
      total += names[i]?.length ?? 0;
    }
    this.baseSize = m;
    const sHi = (this.#hi = new Uint32Array(m));
    const sLo = (this.#lo = new Uint32Array(m));
    const sIno = (this.#ino = new BigUint64Array(m));
    const sType = (this.#type = new Uint8Array(m));
    const sOff = (this.#nameOff = new Uint32Array(m));
    const sLen = (this.#nameLen = new Uint16Array(m));
    const all = (this.#names = Buffer.allocUnsafe(total));
    let off = 0;
    for (let k = 0; k < m; k++) {
      const i = keep[k] ?? 0;
      const p = pairs[i];
      const name = names[i];
      if (p === undefined || name === undefined) continue;
      sHi[k] = hi[i] ?? 0;
      sLo[k] = lo[i] ?? 0;
      sIno[k] = p.ino;
      sType[k] = p.type;
      sOff[k] = off;
      sLen[k] = name.length;
      all.set(name, off);
      off += name.length;
    }
  }

  /** Entries currently held (base minus tombstones is approximate; used for cache accounting). */
  get weight(): number {
    return this.baseSize + this.#added.length;
  }

  get addedCount(): number {
    return this.#added.length;
  }

  /** A local create/link/rename-in of `name`. */
  noteAdd(name: Buffer, type: FileType, ino: Ino): void {
    this.#removed.add(name.toString('latin1'));
    this.#removeAdded(name);
    const [hi, lo] = this.#hash(name);
    const e: Added = { hi, lo, name: Buffer.from(name), ino, type };
    let a = 0, b = this.#added.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const x = this.#added[mid];
      if (x !== undefined && (cmpHash(x.hi, x.lo, hi, lo) || Buffer.compare(x.name, name)) < 0) a = mid + 1;
      else b = mid;
    }
    this.#added.splice(a, 0, e);
  }

  /** A local unlink/rmdir/rename-out of `name`. */
  noteRemove(name: Buffer): void {
    this.#removed.add(name.toString('latin1'));
    this.#removeAdded(name);
  }

  #removeAdded(name: Buffer): void {
    const i = this.#added.findIndex((x) => x.name.equals(name));
    if (i >= 0) this.#added.splice(i, 1);
  }

  #baseName(i: number): Buffer {
    const off = this.#nameOff[i] ?? 0;
    return this.#names.subarray(off, off + (this.#nameLen[i] ?? 0));
  }

  /** First base index whose hash is >= (hi, lo). */
  #lowerBound(hi: number, lo: number): number {
    let a = 0, b = this.baseSize;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (cmpHash(this.#hi[mid] ?? 0, this.#lo[mid] ?? 0, hi, lo) < 0) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  /** Up to `limit` live entries with position > `after`, in position order; `more` if others follow. */
  page(after: bigint, limit: number, onRankOverflow: () => void): { entries: ListedEntry[]; more: boolean } {
    let startHi = 0, startLo = 0;
    const resume = after >= FIRST_POSITION;
    if (resume) {
      const h = after >> RANK_BITS;
      startHi = Number(h >> 32n);
      startLo = Number(h & 0xffffffffn);
    }
    let i = resume ? this.#lowerBound(startHi, startLo) : 0;
    let j = 0;
    if (resume) {
      while (j < this.#added.length) {
        const x = this.#added[j];
        if (x === undefined || cmpHash(x.hi, x.lo, startHi, startLo) >= 0) break;
        j++;
      }
    }
    const entries: ListedEntry[] = [];
    let groupHi = -1, groupLo = -1, rank = 0;
    for (;;) {
      while (i < this.baseSize && this.#removed.size > 0 && this.#removed.has(this.#baseName(i).toString('latin1'))) i++;
      const x = this.#added[j];
      let hi: number, lo: number, name: Buffer, ino: Ino, type: FileType;
      const baseLeft = i < this.baseSize;
      if (!baseLeft && x === undefined) return { entries, more: false };
      const takeBase = baseLeft && (x === undefined ||
        (cmpHash(this.#hi[i] ?? 0, this.#lo[i] ?? 0, x.hi, x.lo) || Buffer.compare(this.#baseName(i), x.name)) < 0);
      if (takeBase) {
        hi = this.#hi[i] ?? 0;
        lo = this.#lo[i] ?? 0;
        name = this.#baseName(i);
        ino = toIno(this.#ino[i] ?? 0n);
        type = (this.#type[i] ?? 0) as FileType;
        i++;
      } else if (x !== undefined) {
        ({ hi, lo, name, ino, type } = x);
        j++;
      } else {
        return { entries, more: false };
      }
      if (hi === groupHi && lo === groupLo) {
        if (rank < MAX_RANK) rank++;
        else onRankOverflow();
      } else {
        groupHi = hi;
        groupLo = lo;
        rank = 0;
      }
      const pos = position(hi, lo, rank);
      if (resume && pos <= after) continue;
      if (entries.length >= limit) return { entries, more: true };
      const copy = Buffer.allocUnsafe(name.length);
      copy.set(name);
      entries.push({ name: copy, ino, type, position: pos });
    }
  }
}

export interface DirCacheOptions {
  /** Total entries held across all cached snapshots. */
  maxEntries: number;
  /** Directories held. */
  maxDirs: number;
  /** A listing restarting from the beginning re-reads a directory whose snapshot is older than this. */
  freshMs: number;
  /** A resumed listing re-reads a directory whose snapshot is older than this. */
  maxAgeMs: number;
  /** Directories up to this size are always re-read when a listing restarts from the beginning. */
  smallDir: number;
  /** Local additions a snapshot absorbs before it is dropped. */
  maxAdded: number;
}

export const DEFAULT_DIR_CACHE: DirCacheOptions = {
  maxEntries: 2_000_000, maxDirs: 64, freshMs: 1_000, maxAgeMs: 30_000, smallDir: 1_000, maxAdded: 10_000,
};

type Op = { add: true; name: Buffer; type: FileType; ino: Ino } | { add: false; name: Buffer };

/** Bounded LRU of directory snapshots with single-flight builds. */
export class DirListingCache {
  readonly #opts: DirCacheOptions;
  readonly #snaps = new Map<bigint, DirSnapshot>(); // insertion order = LRU order
  readonly #building = new Map<bigint, { promise: Promise<DirSnapshot>; ops: Op[] }>();
  #entries = 0;

  constructor(opts: Partial<DirCacheOptions> = {}) {
    this.#opts = { ...DEFAULT_DIR_CACHE, ...opts };
  }

  /** The snapshot to page from, building it with `read` when absent or too old for this request. */
  async snapshot(dir: bigint, fromStart: boolean, read: () => Promise<DirSnapshot>, now = Date.now()): Promise<DirSnapshot> {
    const s = this.#snaps.get(dir);
    if (s !== undefined) {
      const age = now - s.builtAt;
      const stale = fromStart ? (s.baseSize <= this.#opts.smallDir || age > this.#opts.freshMs) : age > this.#opts.maxAgeMs;
      if (!stale) {
        this.#snaps.delete(dir);
        this.#snaps.set(dir, s);
        return s;
      }
    }
    const inflight = this.#building.get(dir);
    if (inflight !== undefined) return inflight.promise;
    const ops: Op[] = [];
    const promise = (async () => {
      try {
        const snap = await read();
        for (const op of ops) {
          if (op.add) snap.noteAdd(op.name, op.type, op.ino);
          else snap.noteRemove(op.name);
        }
        this.#store(dir, snap);
        return snap;
      } finally {
        this.#building.delete(dir);
      }
    })();
    const build = { promise, ops };
    this.#building.set(dir, build);
    return build.promise;
  }

  #store(dir: bigint, snap: DirSnapshot): void {
    this.drop(dir);
    if (snap.weight > this.#opts.maxEntries) return;
    this.#snaps.set(dir, snap);
    this.#entries += snap.weight;
    for (const [d, s] of this.#snaps) {
      if (this.#entries <= this.#opts.maxEntries && this.#snaps.size <= this.#opts.maxDirs) break;
      this.#snaps.delete(d);
      this.#entries -= s.weight;
    }
  }

  drop(dir: bigint): void {
    const s = this.#snaps.get(dir);
    if (s === undefined) return;
    this.#snaps.delete(dir);
    this.#entries -= s.weight;
  }

  noteAdd(dir: bigint, name: Buffer, type: FileType, ino: Ino): void {
    this.#building.get(dir)?.ops.push({ add: true, name: Buffer.from(name), type, ino });
    const s = this.#snaps.get(dir);
    if (s === undefined) return;
    if (s.addedCount >= this.#opts.maxAdded) {
      this.drop(dir);
      return;
    }
    const before = s.weight;
    s.noteAdd(name, type, ino);
    this.#entries += s.weight - before;
  }

  noteRemove(dir: bigint, name: Buffer): void {
    this.#building.get(dir)?.ops.push({ add: false, name: Buffer.from(name) });
    const s = this.#snaps.get(dir);
    if (s === undefined) return;
    const before = s.weight;
    s.noteRemove(name);
    this.#entries += s.weight - before;
  }

  clear(): void {
    this.#snaps.clear();
    this.#entries = 0;
  }
}
