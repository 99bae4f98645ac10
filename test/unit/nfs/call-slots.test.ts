import assert from 'node:assert/strict';
import { CallSlots } from '../../../src/protocols/nfs/rpc/call-slots.js';

describe('CallSlots (server-wide bound on calls in processing)', () => {
  it('hands out at most max slots and takes them back', () => {
    const s = new CallSlots(2);
    assert.equal(s.tryTake(), true);
    assert.equal(s.tryTake(), true);
    assert.equal(s.tryTake(), false);
    s.give();
    assert.equal(s.used, 1);
    assert.equal(s.tryTake(), true);
  });

  it('is unbounded when built with 0', () => {
    const s = new CallSlots(0);
    for (let i = 0; i < 10_000; i++) assert.equal(s.tryTake(), true);
    assert.equal(s.used, 10_000);
  });

  it('gives a freed slot to the longest waiter, which queues again at the back for its next call', () => {
    const s = new CallSlots(1);
    assert.equal(s.tryTake(), true);
    const woken: string[] = [];
    const waiter = (name: string, calls: number): (() => void) => {
      let left = calls;
      const w = (): void => {
        woken.push(name);
        if (s.tryTake()) left--;
        if (left > 0) s.wait(w);
      };
      s.wait(w);
      return w;
    };
    waiter('a', 2);
    waiter('b', 1);
    waiter('c', 2);
    assert.equal(s.waiting, 3);
    for (let i = 0; i < 5; i++) s.give();
    assert.deepEqual(woken, ['a', 'b', 'c', 'a', 'c']);
    assert.equal(s.waiting, 0);
  });

  it('wakes the next waiter when the woken one takes nothing, and forgets cancelled waiters', () => {
    const s = new CallSlots(1);
    s.tryTake();
    const woken: string[] = [];
    const gone = (): void => { woken.push('gone'); };
    const idle = (): void => { woken.push('idle'); };
    const busy = (): void => { woken.push('busy'); s.tryTake(); };
    s.wait(gone);
    s.wait(idle);
    s.wait(busy);
    s.cancel(gone);
    s.give();
    assert.deepEqual(woken, ['idle', 'busy']);
    assert.equal(s.used, 1);
  });
});
