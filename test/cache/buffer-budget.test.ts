import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { BufferBudget } from '../../src/cache/buffer-budget.js';

describe('BufferBudget', function () {
  it('grants requests that fit at once and counts the bytes in use', async function () {
    const budget = new BufferBudget(100);
    await budget.acquire(40);
    await budget.acquire(60);
    assert.equal(budget.usedBytes, 100);
    assert.equal(budget.waiting, 0);
    budget.release(40);
    assert.equal(budget.usedBytes, 60);
  });

  it('wakes waiters in arrival order as bytes are released', async function () {
    const budget = new BufferBudget(100);
    await budget.acquire(100);
    const order: string[] = [];
    const a = budget.acquire(60).then(() => order.push('a'));
    const b = budget.acquire(10).then(() => order.push('b'));
    const c = budget.acquire(50).then(() => order.push('c'));
    await tick();
    assert.deepEqual(order, []);
    assert.equal(budget.waiting, 3);
    assert.equal(budget.waitingBytes, 120);

    budget.release(100);
    await Promise.all([a, b]);
    await tick();
    assert.deepEqual(order, ['a', 'b'], 'c (50) does not fit next to a and b (70)');
    assert.equal(budget.usedBytes, 70);

    budget.release(60);
    await c;
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(budget.usedBytes, 60);
  });

  it('makes a small request wait behind an earlier large one (FIFO, no starvation)', async function () {
    const budget = new BufferBudget(100);
    await budget.acquire(50);
    let bigGranted = false;
    let smallGranted = false;
    const big = budget.acquire(80).then(() => (bigGranted = true));
    const small = budget.acquire(10).then(() => (smallGranted = true));
    await tick();
    assert.equal(bigGranted, false);
    assert.equal(smallGranted, false, '10 bytes would fit, but the 80-byte request came first');
    assert.equal(budget.tryAcquire(1), false, 'tryAcquire does not jump the queue either');
    budget.release(50);
    await Promise.all([big, small]);
    assert.equal(budget.usedBytes, 90);
  });

  it('clamps a request larger than the whole budget so it completes instead of deadlocking', async function () {
    const budget = new BufferBudget(100);
    await budget.acquire(30);
    let granted = false;
    const huge = budget.acquire(1000).then(() => (granted = true));
    await tick();
    assert.equal(granted, false, 'waits for the budget to empty');
    budget.release(30);
    await huge;
    assert.equal(budget.usedBytes, 100);
    budget.release(1000);
    assert.equal(budget.usedBytes, 0);
  });

  it('drops an aborted waiter and lets the ones behind it through', async function () {
    const budget = new BufferBudget(100);
    await budget.acquire(60);
    const ac = new AbortController();
    const blocked = budget.acquire(80, ac.signal);
    const behind = budget.acquire(30);
    ac.abort(new Error('client went away'));
    await assert.rejects(blocked, /client went away/);
    await behind;
    assert.equal(budget.usedBytes, 90);
    assert.equal(budget.waiting, 0);
  });

  it('rejects an already aborted acquire without granting anything', async function () {
    const budget = new BufferBudget(100);
    await assert.rejects(budget.acquire(10, AbortSignal.abort(new Error('gone'))), /gone/);
    assert.equal(budget.usedBytes, 0);
  });

  it('refuses to release more than is in use', function () {
    const budget = new BufferBudget(100);
    assert.equal(budget.tryAcquire(10), true);
    assert.throws(() => budget.release(20), RangeError);
  });

  it('reports used bytes and waiters as ferry_cache_buffer_* gauges', async function () {
    const registry = new Registry();
    const budget = new BufferBudget(100, registry);
    await budget.acquire(70);
    void budget.acquire(50);
    const text = await registry.metrics();
    assert.match(text, /^ferry_cache_buffer_used_bytes 70$/m);
    assert.match(text, /^ferry_cache_buffer_capacity_bytes 100$/m);
    assert.match(text, /^ferry_cache_buffer_waiting_requests 1$/m);
  });
});
