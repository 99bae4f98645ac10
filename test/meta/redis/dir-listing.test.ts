/** Readdir positions and snapshots (dir-listing.ts): hash positions, collision ranks, local changes. */
import assert from 'node:assert/strict';
import { DirListingCache, DirSnapshot, FIRST_POSITION, nameHash58, type NameHash } from '../../../src/meta/redis/dir-listing.js';
import { FileType, toIno } from '../../../src/meta/types.js';

const entry = (s: string, i = 1): { name: Buffer; type: FileType; ino: ReturnType<typeof toIno> } => ({ name: Buffer.from(s), type: FileType.File, ino: toIno(i) });

/** Reads the whole snapshot in pages of `size`, resuming from the last position each time. */
function readAll(s: DirSnapshot, size: number): { name: string; pos: bigint }[] {
  const out: { name: string; pos: bigint }[] = [];
  let after = 0n;
  for (;;) {
    const p = s.page(after, size, () => undefined);
    for (const e of p.entries) out.push({ name: e.name.toString(), pos: e.position });
    const last = p.entries[p.entries.length - 1];
    if (!p.more || last === undefined) return out;
    after = last.position;
  }
}

describe('redis readdir positions (dir-listing)', () => {
  it('the hash is the top 58 bits of FNV-1a-64', () => {
    // FNV-1a-64("") = cbf29ce484222325, ("a") = af63dc4c8601ec8c
    const top58 = (x: bigint): [number, number] => [Number((x >> 6n) >> 32n), Number((x >> 6n) & 0xffffffffn)];
    assert.deepEqual(nameHash58(Buffer.alloc(0)), top58(0xcbf29ce484222325n));
    assert.deepEqual(nameHash58(Buffer.from('a')), top58(0xaf63dc4c8601ec8cn));
    assert.deepEqual(nameHash58(Buffer.from('foobar')), top58(0x85944171f73967e8n));
  });

  it('positions are >= 16, strictly increasing, and depend only on the name', () => {
    const names = Array.from({ length: 500 }, (_, i) => `file-${i}`);
    const a = readAll(new DirSnapshot(names.map((n) => entry(n)), 0), 7);
    const b = readAll(new DirSnapshot([...names].reverse().map((n) => entry(n)), 0), 1000);
    assert.deepEqual(a, b);
    assert.equal(a.length, 500);
    for (let i = 0; i < a.length; i++) {
      assert.ok((a[i]?.pos ?? 0n) >= FIRST_POSITION);
      if (i > 0) assert.ok((a[i]?.pos ?? 0n) > (a[i - 1]?.pos ?? 0n));
    }
  });

  it('duplicate names from HSCAN are listed once', () => {
    const s = new DirSnapshot([entry('x'), entry('y'), entry('x')], 0);
    assert.deepEqual(readAll(s, 10).map((e) => e.name).sort(), ['x', 'y']);
  });

  it('colliding hashes get ranks by name bytes: unique positions, resumable inside the group', () => {
    const collide: NameHash = (n) => (Buffer.from(n).toString().startsWith('c') ? [5, 5] : nameHash58(n));
    const s = new DirSnapshot(['c3', 'c1', 'c2', 'z'].map((n) => entry(n)), 0, collide);
    const all = readAll(s, 1);
    const group = all.filter((e) => e.name.startsWith('c'));
    assert.deepEqual(group.map((e) => e.name), ['c1', 'c2', 'c3']);
    const base = group[0]?.pos ?? 0n;
    assert.deepEqual(group.map((e) => e.pos - base), [0n, 1n, 2n]);
    const after = s.page(base, 10, () => undefined).entries.map((e) => e.name.toString());
    assert.deepEqual(after.slice(0, 2), ['c2', 'c3']);
  });

  it('entries are in (hash, name) order also when hashes share their top bits or repeat, with duplicates dropped', () => {
    // hashes that differ only in their lowest bits (below what the sort key keeps), and repeats
    const crowded: NameHash = (n) => {
      const k = Number.parseInt(Buffer.from(n).toString().slice(1), 10);
      return [k % 3, (k * 2654435761) % 512];
    };
    const names = Array.from({ length: 3000 }, (_, i) => `f${(i * 7919) % 2500}`);
    const s = new DirSnapshot(names.map((n) => entry(n)), 0, crowded);
    const got = readAll(s, 333).map((e) => e.name);
    const want = [...new Set(names)].sort((a, b) => {
      const [ah, al] = crowded(Buffer.from(a));
      const [bh, bl] = crowded(Buffer.from(b));
      return ah - bh || al - bl || Buffer.compare(Buffer.from(a), Buffer.from(b));
    });
    assert.deepEqual(got, want);
  });

  it('a snapshot absorbs local adds and removes; resumed pages see them without duplicates', () => {
    const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
    const s = new DirSnapshot(names.map((n) => entry(n)), 0);
    const first = s.page(0n, 30, () => undefined);
    const seen = new Set(first.entries.map((e) => e.name.toString()));
    for (let i = 0; i < 100; i += 2) s.noteRemove(Buffer.from(`n${i}`));
    for (let i = 0; i < 20; i++) s.noteAdd(Buffer.from(`new${i}`), FileType.File, toIno(1000 + i));
    s.noteAdd(Buffer.from('n1'), FileType.Directory, toIno(5)); // replaced by a rename: new inode, same name
    let after = first.entries[first.entries.length - 1]?.position ?? 0n;
    const rest: string[] = [];
    for (;;) {
      const p = s.page(after, 9, () => undefined);
      for (const e of p.entries) {
        rest.push(e.name.toString());
        if (e.name.toString() === 'n1') assert.equal(e.ino, toIno(5));
      }
      const last = p.entries[p.entries.length - 1];
      if (!p.more || last === undefined) break;
      after = last.position;
    }
    for (const r of rest) assert.ok(!seen.has(r), `${r} listed twice`);
    // every odd name survived the whole listing: each appears exactly once overall
    for (let i = 1; i < 100; i += 2) assert.ok(seen.has(`n${i}`) !== rest.includes(`n${i}`), `n${i}`);
    assert.ok(!rest.some((r) => /^n\d+$/.test(r) && Number(r.slice(1)) % 2 === 0));
  });

  it('the cache serves consecutive pages from one build and rebuilds fresh listings of small dirs', async () => {
    const cache = new DirListingCache({ freshMs: 1000, smallDir: 10 });
    let builds = 0;
    const big = Array.from({ length: 50 }, (_, i) => entry(`e${i}`));
    const read = async (): Promise<DirSnapshot> => { builds++; return new DirSnapshot(big, 1_000); };
    await cache.snapshot(1n, true, read, 1_000);
    await cache.snapshot(1n, false, read, 2_000);
    await cache.snapshot(1n, true, read, 1_500);
    assert.equal(builds, 1, 'large dir: resumes and fresh restarts share the snapshot');
    await cache.snapshot(1n, true, read, 2_500);
    assert.equal(builds, 2, 'a restart after freshMs re-reads');
    const small = async (): Promise<DirSnapshot> => { builds++; return new DirSnapshot([entry('a')], 3_000); };
    await cache.snapshot(2n, true, small, 3_000);
    await cache.snapshot(2n, true, small, 3_000);
    assert.equal(builds, 4, 'small dirs are re-read on every restart');
    const [x, y] = await Promise.all([cache.snapshot(3n, true, read), cache.snapshot(3n, true, read)]);
    assert.equal(x, y, 'concurrent builds of one directory are shared');
    assert.equal(builds, 5);
  });

  it('the cache stays within its entry budget', async () => {
    const cache = new DirListingCache({ maxEntries: 100, maxDirs: 10 });
    let builds = 0;
    const read = (n: number) => async (): Promise<DirSnapshot> => { builds++; return new DirSnapshot(Array.from({ length: n }, (_, i) => entry(`e${i}`)), Date.now()); };
    await cache.snapshot(1n, false, read(60));
    await cache.snapshot(2n, false, read(60)); // evicts dir 1
    await cache.snapshot(2n, false, read(60));
    assert.equal(builds, 2);
    await cache.snapshot(1n, false, read(60));
    assert.equal(builds, 3);
    await cache.snapshot(4n, false, read(500)); // larger than the budget: not cached
    await cache.snapshot(4n, false, read(500));
    assert.equal(builds, 5);
  });
});
