// GroupCommit's durability contract, with a WAL sync the test opens and fails by hand: a write is
// answered only after an fdatasync that started after its commit, a deferred write at its commit,
// and durable() waits for a sync covering every deferred write (and keeps failing once one that
// should have covered them failed: their frames may be gone).
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { GroupCommit } from '../../../src/meta/sqlite/group-commit.js';
import { logger } from '../../../src/observability/logger.js';
import { Errno, isFsError } from '../../../src/util/errno.js';

/** A WAL sync that completes or fails only when the test says so. */
class GatedSync {
  calls = 0;
  readonly #waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  durable(): Promise<void> {
    this.calls++;
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
  get pending(): number {
    return this.#waiting.length;
  }
  complete(): void {
    for (const w of this.#waiting.splice(0)) w.resolve();
  }
  fail(err: Error): void {
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }
}

/** Resolves with 'pending' when `p` has not settled after a few turns of the event loop. */
async function state(p: Promise<unknown>): Promise<'fulfilled' | 'rejected' | 'pending'> {
  const marker = Symbol('pending');
  const raced = Promise.race([p.then(() => 'fulfilled' as const, () => 'rejected' as const), new Promise((r) => setTimeout(() => r(marker), 20))]);
  const r = await raced;
  return r === marker ? 'pending' : r as 'fulfilled' | 'rejected';
}

describe('sqlite group commit: deferred durability', () => {
  let db: Database.Database;
  let wal: GatedSync;
  let group: GroupCommit;
  const insert = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
  const rows = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    wal = new GatedSync();
    group = new GroupCommit(db, wal, logger, 3);
  });
  afterEach(() => { db.close(); });

  it('a write is answered only after the sync that follows its commit; a deferred one at its commit, without starting a sync', async () => {
    const deferred = group.run('deferred', insert(1), true);
    assert.equal(await state(deferred), 'fulfilled');
    assert.equal(rows(), 1, 'committed: visible to readers');
    assert.equal(wal.calls, 0, 'a batch of deferred writes alone starts no sync');

    const durable = group.run('durable', insert(2));
    assert.equal(await state(durable), 'pending', 'waits for the sync');
    assert.equal(wal.calls, 1);
    wal.complete();
    assert.equal(await state(durable), 'fulfilled');
  });

  it('durable() waits for a sync started after the deferred commits, and returns at once when nothing deferred is unsynced', async () => {
    await group.run('deferred', insert(1), true);
    const barrier = group.durable();
    assert.equal(await state(barrier), 'pending');
    assert.equal(wal.calls, 1);
    wal.complete();
    assert.equal(await state(barrier), 'fulfilled');

    assert.equal(await state(group.durable()), 'fulfilled', 'nothing deferred since: no sync');
    assert.equal(wal.calls, 1);

    // a durable write's sync also covers deferred writes committed before or with it
    const both = [group.run('deferred', insert(2), true), group.run('durable', insert(3))];
    assert.equal(await state(both[0] as Promise<unknown>), 'fulfilled', 'the deferred write of a mixed batch is answered at commit');
    assert.equal(await state(both[1] as Promise<unknown>), 'pending');
    wal.complete();
    await Promise.all(both);
    assert.equal(await state(group.durable()), 'fulfilled');
    assert.equal(wal.calls, 2, 'the mixed batch synced once and durable() needed no other');
  });

  it('when the sync that should cover deferred writes fails, durable() fails with EIO from then on, even after later syncs succeed', async () => {
    await group.run('deferred', insert(1), true);
    const barrier = group.durable();
    assert.equal(await state(barrier), 'pending');
    wal.fail(new Error('EIO from the disk'));
    await assert.rejects(barrier, (err: unknown) => isFsError(err, Errno.EIO));

    const later = group.run('durable', insert(2));
    await new Promise((r) => setTimeout(r, 5));
    wal.complete();
    await later;
    await assert.rejects(group.durable(), (err: unknown) => isFsError(err, Errno.EIO), 'the deferred write may be lost: still EIO');
  });

  it('without a WAL to sync (an in-memory database) deferred and durable writes are answered at commit', async () => {
    const plain = new GroupCommit(db, null, logger, 3);
    await plain.run('deferred', insert(1), true);
    await plain.run('durable', insert(2));
    await plain.durable();
    assert.equal(rows(), 2);
  });
});
