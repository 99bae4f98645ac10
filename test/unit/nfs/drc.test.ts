import assert from 'node:assert/strict';
import { DuplicateRequestCache, type DrcRequest } from '../../../src/protocols/nfs/drc.js';
import { Deferred } from '../../helpers/deferred.js';

const req = (over: Partial<DrcRequest> = {}): DrcRequest => ({
  address: '10.0.0.1', port: 800, xid: 1, prog: 100003, vers: 3, proc: 9, args: Buffer.from('mkdir a'), ...over,
});
const reply = (s: string): Buffer[] => [Buffer.from(s)];

describe('duplicate request cache', () => {
  it('answers a retransmission of a completed call with the stored reply without executing it', async () => {
    const drc = new DuplicateRequestCache();
    let runs = 0;
    const exec = async () => ({ reply: reply(`run ${++runs}`), cacheable: true });
    assert.equal((await drc.run(req(), exec))[0]?.toString(), 'run 1');
    assert.equal((await drc.run(req(), exec))[0]?.toString(), 'run 1');
    assert.equal(runs, 1);
    assert.deepEqual({ executed: drc.stats().executed, replayed: drc.stats().replayed }, { executed: 1, replayed: 1 });
  });

  it('makes a retransmission that arrives while the original runs wait for the same reply', async () => {
    const drc = new DuplicateRequestCache();
    const gate = new Deferred();
    let runs = 0;
    const exec = async () => { runs++; await gate.promise; return { reply: reply('once'), cacheable: true }; };
    const first = drc.run(req(), exec);
    const second = drc.run(req(), exec);
    assert.equal(drc.stats().inProgress, 1);
    gate.resolve();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a, b);
    assert.equal(runs, 1);
    assert.equal(drc.stats().joined, 1);
  });

  it('executes calls that differ in client, port, xid, procedure or argument bytes separately', async () => {
    const drc = new DuplicateRequestCache();
    let runs = 0;
    const exec = async () => ({ reply: reply(String(++runs)), cacheable: true });
    for (const q of [req(), req({ address: '10.0.0.2' }), req({ port: 801 }), req({ xid: 2 }), req({ proc: 12 }), req({ args: Buffer.from('mkdir b') })]) {
      await drc.run(q, exec);
    }
    assert.equal(runs, 6);
  });

  it('can key on the address alone, for clients that retransmit from another port', async () => {
    const drc = new DuplicateRequestCache({ keyByPort: false });
    let runs = 0;
    const exec = async () => ({ reply: reply(String(++runs)), cacheable: true });
    await drc.run(req({ port: 800 }), exec);
    await drc.run(req({ port: 900 }), exec);
    assert.equal(runs, 1);
  });

  it('does not store replies marked not cacheable', async () => {
    const drc = new DuplicateRequestCache();
    let runs = 0;
    const exec = async () => ({ reply: reply(String(++runs)), cacheable: false });
    await drc.run(req(), exec);
    await drc.run(req(), exec);
    assert.equal(runs, 2);
  });

  it('lets a waiting retransmission execute itself when the original is abandoned', async () => {
    const drc = new DuplicateRequestCache();
    const gate = new Deferred();
    const first = drc.run(req(), async () => { await gate.promise; throw new Error('connection closed'); });
    const second = drc.run(req(), async () => ({ reply: reply('retry'), cacheable: true }));
    gate.resolve();
    await assert.rejects(first, /connection closed/);
    assert.equal((await second)[0]?.toString(), 'retry');
    assert.equal(drc.stats().executed, 2);
  });

  it('forgets entries older than the TTL', async () => {
    let now = 1_000;
    const drc = new DuplicateRequestCache({ ttlMs: 100, now: () => now });
    let runs = 0;
    const exec = async () => ({ reply: reply(String(++runs)), cacheable: true });
    await drc.run(req(), exec);
    now += 100;
    await drc.run(req(), exec);
    assert.equal(runs, 1);
    now += 101;
    await drc.run(req(), exec);
    assert.equal(runs, 2);
  });

  it('evicts the least recently used entry past maxEntries and past maxBytes', async () => {
    const drc = new DuplicateRequestCache({ maxEntries: 2 });
    let runs = 0;
    const exec = async () => ({ reply: reply(String(++runs)), cacheable: true });
    await drc.run(req({ xid: 1 }), exec);
    await drc.run(req({ xid: 2 }), exec);
    await drc.run(req({ xid: 1 }), exec);
    await drc.run(req({ xid: 3 }), exec);
    assert.equal(drc.stats().entries, 2);
    await drc.run(req({ xid: 1 }), exec);
    assert.equal(runs, 3);
    await drc.run(req({ xid: 2 }), exec);
    assert.equal(runs, 4);

    const small = new DuplicateRequestCache({ maxBytes: 10 });
    await small.run(req({ xid: 1 }), async () => ({ reply: [Buffer.alloc(6)], cacheable: true }));
    await small.run(req({ xid: 2 }), async () => ({ reply: [Buffer.alloc(6)], cacheable: true }));
    assert.deepEqual({ entries: small.stats().entries, bytes: small.stats().bytes }, { entries: 1, bytes: 6 });
  });
});
