import assert from 'node:assert/strict';
import { CoalescedSync } from '../../../src/util/coalesced-sync.js';

/** A sync operation whose runs the test finishes by hand, recording when each started. */
function manualRuns(): { run: () => Promise<void>; started: number; finish(err?: Error): void } {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const state = {
    started: 0,
    run: (): Promise<void> => {
      state.started++;
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
    finish(err?: Error): void {
      const p = pending.shift();
      if (p === undefined) throw new Error('no run in progress');
      if (err === undefined) p.resolve();
      else p.reject(err);
    },
  };
  return state;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CoalescedSync', function () {
  it('answers each caller with a run started after its call; callers during a run share the next one', async function () {
    const m = manualRuns();
    const g = new CoalescedSync(() => m.run());
    const done: string[] = [];
    const a = g.sync().then(() => done.push('a'));
    assert.equal(m.started, 1);
    const b = g.sync().then(() => done.push('b'));
    const c = g.sync().then(() => done.push('c'));
    assert.equal(m.started, 1, 'b and c wait for a run after the one in progress');
    m.finish();
    await a;
    await tick();
    assert.deepEqual(done, ['a']);
    assert.equal(m.started, 2, 'one run serves b and c');
    m.finish();
    await Promise.all([b, c]);
    assert.deepEqual(done, ['a', 'b', 'c']);
    assert.equal(g.idle, true);
  });

  it('reports a failed run to the callers it was meant for, and the next call starts afresh', async function () {
    const m = manualRuns();
    const g = new CoalescedSync(() => m.run());
    const a = g.sync();
    m.finish(new Error('EIO'));
    await assert.rejects(a, /EIO/);
    const b = g.sync();
    assert.equal(m.started, 2);
    m.finish();
    await b;
    assert.equal(g.idle, true);
  });
});
