/**
 * Readdir through the Redis engine: stable resumable positions over a large directory while it
 * changes, resumption by another process (a second engine with its own cache), readdir-plus.
 */
import assert from 'node:assert/strict';
import { openRedisEngine, type RedisEngine } from '../../../src/meta/redis/engine.js';
import { type Ino, FileType, ROOT_INODE } from '../../../src/meta/types.js';
import { type Fixture, freshRedis, mk, name, tick } from './fixture.js';

async function pageFrom(engine: RedisEngine, dir: Ino, after: bigint, limit: number): Promise<{ names: string[]; last: bigint; more: boolean }> {
  const p = await engine.doReaddir(dir, after, limit, false);
  const last = p.entries[p.entries.length - 1]?.cookie ?? after;
  return { names: p.entries.map((e) => e.name.toString()), last, more: p.more };
}

describe('redis engine: readdir positions', function () {
  let f: Fixture;
  let other: RedisEngine;
  beforeEach(async () => {
    f = await freshRedis();
    other = await openRedisEngine(f.url);
  });
  afterEach(async () => {
    await other.close();
    await f.cleanup();
  });

  it('a changing directory of 3000 entries listed in pages: survivors exactly once, nothing twice, local removals never shown', async () => {
    const dir = await mk(f.engine, ROOT_INODE, 'big', FileType.Directory);
    const inos = new Map<string, Ino>();
    await Promise.all(Array.from({ length: 3000 }, async (_, i) => { inos.set(`f${i}`, await mk(f.engine, dir, `f${i}`)); }));
    const seen = new Map<string, number>();
    const removed = new Map<string, RedisEngine>();
    let after = 0n;
    let round = 0;
    for (;;) {
      // alternate the reader between two processes: positions must mean the same to both
      const reader = round % 2 === 0 ? f.engine : other;
      const p = await pageFrom(reader, dir, after, 97);
      for (const n of p.names) {
        // a removal by another process may stay visible in this process's snapshot; its own never
        assert.ok(removed.get(n) !== reader, `${n} listed after this process removed it`);
        seen.set(n, (seen.get(n) ?? 0) + 1);
      }
      if (!p.more) break;
      after = p.last;
      // between pages: remove 20 entries, add 20 new ones (through either process)
      const writer = round % 3 === 0 ? other : f.engine;
      for (let k = 0; k < 20; k++) {
        const victim = `f${(round * 37 + k * 149) % 3000}`;
        const ino = inos.get(victim);
        if (ino !== undefined && !removed.has(victim)) {
          await writer.doUnlink({ parent: dir, name: name(victim), expectIno: ino, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false });
          removed.set(victim, writer);
        }
        await mk(writer, dir, `new-${round}-${k}`);
      }
      round++;
    }
    assert.ok(round > 30);
    for (const [n, count] of seen) assert.equal(count, 1, `${n} listed ${count} times`);
    for (const n of inos.keys()) if (!removed.has(n)) assert.equal(seen.get(n), 1, `survivor ${n} lost`);
  });

  it('any handed-out position resumes to the same continuation in a fresh process', async () => {
    const dir = await mk(f.engine, ROOT_INODE, 'd', FileType.Directory);
    for (let i = 0; i < 300; i++) await mk(f.engine, dir, `x${i}`);
    const full = (await f.engine.doReaddir(dir, 0n, 1000, false)).entries;
    assert.equal(full.length, 300);
    for (const i of [0, 1, 150, 298, 299]) {
      const at = full[i];
      assert.ok(at !== undefined);
      const fresh = await openRedisEngine(f.url);
      try {
        const rest = (await fresh.doReaddir(dir, at.cookie, 1000, false)).entries.map((e) => e.name.toString());
        assert.deepEqual(rest, full.slice(i + 1).map((e) => e.name.toString()));
      } finally {
        await fresh.close();
      }
    }
  });

  it('readdir-plus returns attrs; the local cache follows this process\'s own creates and unlinks at once', async () => {
    const dir = await mk(f.engine, ROOT_INODE, 'd', FileType.Directory);
    for (let i = 0; i < 5; i++) await mk(f.engine, dir, `a${i}`);
    const first = await f.engine.doReaddir(dir, 0n, 2, true);
    assert.equal(first.entries.length, 2);
    assert.ok(first.entries.every((e) => e.attr?.type === FileType.File && e.attr.parent === dir));
    const gone = first.entries[0];
    assert.ok(gone !== undefined);
    await f.engine.doUnlink({ parent: dir, name: gone.name, expectIno: gone.ino, keepOpen: false, sid: 0, trash: null, now: tick(), rmdir: false });
    await mk(f.engine, dir, 'late');
    const all = (await f.engine.doReaddir(dir, 0n, 100, true)).entries.map((e) => e.name.toString()).sort();
    assert.deepEqual(all, ['a0', 'a1', 'a2', 'a3', 'a4', 'late'].filter((n) => n !== gone.name.toString()));
  });

  it('readdir of a file is ENOTDIR, of a missing inode ENOENT', async () => {
    const file = await mk(f.engine, ROOT_INODE, 'f');
    await assert.rejects(f.engine.doReaddir(file, 0n, 10, false), { code: 'ENOTDIR' });
    await assert.rejects(f.engine.doReaddir(ROOT_INODE + 999n as Ino, 0n, 10, false), { code: 'ENOENT' });
  });
});
