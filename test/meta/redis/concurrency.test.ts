/**
 * 32 concurrent creators/renamers in ONE directory through BaseMeta over the Redis engine (each
 * with its own connection, like 32 gateways): no entry is lost, nlink and counters are exact.
 */
import assert from 'node:assert/strict';
import { BaseMeta } from '../../../src/meta/base.js';
import { openRedisEngine } from '../../../src/meta/redis/engine.js';
import { FileType, ROOT_INODE } from '../../../src/meta/types.js';
import { ROOT, collect, volume } from '../conformance/helpers.js';
import { type Fixture, freshRedis } from './fixture.js';

const WORKERS = 32;
const PER_WORKER = 12;

describe('redis engine: concurrency', function () {
  let f: Fixture;
  beforeEach(async () => { f = await freshRedis({}, false); });
  afterEach(async () => { await f.cleanup(); });

  it('32 concurrent clients creating, renaming and replacing in one directory lose nothing', async () => {
    const setup = new BaseMeta(f.engine, { skipDirMtimeMs: 100 });
    await setup.format(volume());
    const shared = (await setup.mkdir(ROOT, ROOT_INODE, Buffer.from('shared'), 0o777, 0)).ino;
    const metas = await Promise.all(Array.from({ length: WORKERS }, async () => {
      const m = new BaseMeta(await openRedisEngine(f.url), { skipDirMtimeMs: 100, inodeBatch: 8 });
      await m.load();
      return m;
    }));
    try {
      await Promise.all(metas.map(async (m, w) => {
        for (let i = 0; i < PER_WORKER; i++) {
          const nm = Buffer.from(`w${w}-${i}`);
          await m.create(ROOT, shared, nm, 0o644, 0, true);
          // every worker renames its file to a final name, and every third time replaces a common name
          await m.rename(ROOT, shared, nm, shared, Buffer.from(`final-w${w}-${i}`));
          if (i % 3 === 0) {
            await m.create(ROOT, shared, Buffer.from(`tmp-w${w}-${i}`), 0o644, 0, true);
            await m.rename(ROOT, shared, Buffer.from(`tmp-w${w}-${i}`), shared, Buffer.from(`common-${i % 2}`));
          }
          if (i % 4 === 0) await m.mkdir(ROOT, shared, Buffer.from(`dir-w${w}-${i}`), 0o755, 0);
        }
      }));
      const entries = (await collect(setup.readdir(ROOT, shared))).filter((e) => e.cookie > 2n);
      const names = entries.map((e) => e.name.toString()).sort();
      const expected: string[] = ['common-0', 'common-1'];
      for (let w = 0; w < WORKERS; w++) {
        for (let i = 0; i < PER_WORKER; i++) {
          expected.push(`final-w${w}-${i}`);
          if (i % 4 === 0) expected.push(`dir-w${w}-${i}`);
        }
      }
      assert.deepEqual(names, expected.sort());
      const dirs = entries.filter((e) => e.type === FileType.Directory).length;
      const attr = await setup.getattr(shared);
      assert.equal(attr.nlink, 2 + dirs);
      const c = await setup.counters();
      // shared dir + every listed entry; replaced "common" files were deleted
      assert.equal(c.usedInodes, 1 + entries.length);
      assert.equal(c.usedSpace, 4096 * (1 + entries.length));
      assert.deepEqual(await setup.dirStats(shared), { dataLength: 0, usedSpace: 4096 * entries.length, usedInodes: entries.length });
      const replaced = WORKERS * Math.ceil(PER_WORKER / 3) - 2;
      assert.equal((await setup.delFiles(100_000)).length, replaced);
    } finally {
      await Promise.all(metas.map((m) => m.close()));
    }
  });
});
