import assert from 'node:assert/strict';
import { AUTH_BADCRED, AUTH_DH, AUTH_NONE, AUTH_SYS, GARBAGE_ARGS, PROC_UNAVAIL, PROG_MISMATCH, PROG_UNAVAIL, SUCCESS, SYSTEM_ERR } from '../../../src/protocols/nfs/rpc/message.js';
import { recordMark } from '../../../src/protocols/nfs/rpc/record-marking.js';
import { RpcServer, type RpcServerOptions } from '../../../src/protocols/nfs/rpc/server.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { waitFor } from '../../helpers/deferred.js';
import { encodeTestCall, RpcTestClient, successBody, sysCred } from '../../helpers/rpc-client.js';
import { POOLED_SIZE, PROC_BIG, PROC_ECHO, PROC_GATED, PROC_NULL, PROC_POOLED, PROC_THROW, PROC_WHOAMI, TEST_PROG, TestProgramState, testProgram } from './test-program.js';

const NLM_PROG = 100021;

describe('RPC server over TCP', () => {
  let server: RpcServer;
  let state: TestProgramState;
  let port: number;
  const clients: RpcTestClient[] = [];

  async function start(opts: Partial<RpcServerOptions> = {}): Promise<void> {
    await server?.close();
    server = new RpcServer(opts);
    state = new TestProgramState();
    server.register(testProgram(state, 1)).register(testProgram(state, 2));
    port = (await server.listenTcp(0)).port;
  }

  async function client(): Promise<RpcTestClient> {
    const c = await RpcTestClient.connect(port);
    clients.push(c);
    return c;
  }

  beforeEach(() => start());

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  it('answers NULL with SUCCESS and an empty body', async () => {
    const c = await client();
    const r = await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_NULL });
    assert.equal(r.stat, SUCCESS);
    assert.equal(successBody(r).remaining, 0);
  });

  it('answers 50 pipelined calls in the order they finish, each matched to its xid', async () => {
    const c = await client();
    const calls = Array.from({ length: 50 }, (_, id) => ({ id, ...c.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(id) }) }));
    await waitFor(() => state.entered.length === 50, 'all 50 calls to be running');
    const releaseOrder = calls.map((x) => x.id).sort((a, b) => ((a * 37) % 50) - ((b * 37) % 50));
    for (const id of releaseOrder) {
      state.open(id);
      await calls[id]?.reply;
    }
    for (const call of calls) assert.equal(successBody(await call.reply).u32(), call.id);
    const arrival = c.received.map((r) => calls.find((x) => x.xid === r.xid)?.id);
    assert.deepEqual(arrival, releaseOrder);
    assert.equal(state.maxRunning, 50);
  });

  it('answers malformed arguments with GARBAGE_ARGS and keeps serving the connection', async () => {
    const c = await client();
    const tooLong = new XdrWriter().u32(2000).raw(Buffer.alloc(2000));
    assert.equal((await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_ECHO, args: tooLong })).stat, GARBAGE_ARGS);
    const truncated = new XdrWriter().u32(8).u32(0);
    assert.equal((await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_ECHO, args: truncated })).stat, GARBAGE_ARGS);
    const ok = await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_ECHO, args: new XdrWriter().opaque(Buffer.from('still here')) });
    assert.equal(successBody(ok).opaque(100).toString(), 'still here');
  });

  it('answers an unknown program with PROG_UNAVAIL, an unknown version with PROG_MISMATCH(1, 2), an unknown procedure with PROC_UNAVAIL', async () => {
    const c = await client();
    assert.equal((await c.call({ prog: TEST_PROG + 1, vers: 1, proc: 0 })).stat, PROG_UNAVAIL);
    assert.deepEqual(await c.call({ prog: TEST_PROG, vers: 3, proc: 0, xid: 77 }), { xid: 77, stat: PROG_MISMATCH, low: 1, high: 2, verf: { flavor: AUTH_NONE, body: Buffer.alloc(0) } });
    assert.equal((await c.call({ prog: TEST_PROG, vers: 2, proc: 99 })).stat, PROC_UNAVAIL);
  });

  it('answers NLM (program 100021) with PROG_UNAVAIL, so clients fall back to nolock', async () => {
    const c = await client();
    for (const vers of [1, 3, 4]) assert.equal((await c.call({ prog: NLM_PROG, vers, proc: 0, cred: sysCred() })).stat, PROG_UNAVAIL);
  });

  it('answers a procedure that throws with SYSTEM_ERR and keeps serving', async () => {
    const c = await client();
    assert.equal((await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_THROW })).stat, SYSTEM_ERR);
    assert.equal((await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_NULL })).stat, SUCCESS);
  });

  it('denies a wrong RPC version with RPC_MISMATCH and bad credentials with AUTH_BADCRED', async () => {
    const c = await client();
    assert.deepEqual(await c.call({ prog: TEST_PROG, vers: 1, proc: 0, rpcvers: 3, xid: 5 }), { xid: 5, stat: 'rpc-mismatch', low: 2, high: 2 });
    const badSys = { flavor: AUTH_SYS, body: Buffer.alloc(7) };
    assert.deepEqual(await c.call({ prog: TEST_PROG, vers: 1, proc: 0, cred: badSys, xid: 6 }), { xid: 6, stat: 'auth-error', authStat: AUTH_BADCRED });
    assert.deepEqual(await c.call({ prog: TEST_PROG, vers: 1, proc: 0, cred: { flavor: AUTH_DH, body: Buffer.alloc(8) }, xid: 7 }), { xid: 7, stat: 'auth-error', authStat: AUTH_BADCRED });
    assert.equal((await c.call({ prog: TEST_PROG, vers: 1, proc: 0 })).stat, SUCCESS);
  });

  it('gives procedures the AUTH_SYS identity, the peer and the transport', async () => {
    const c = await client();
    const r = successBody(await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_WHOAMI, cred: sysCred(501, 20, [12, 61]) }));
    assert.deepEqual(
      { uid: r.u32(), gid: r.u32(), gids: r.array(16, (x) => x.u32()), flavor: r.u32(), port: r.u32(), address: r.string(64).toString(), transport: r.string(8).toString() },
      { uid: 501, gid: 20, gids: [12, 61], flavor: AUTH_SYS, port: c.localPort, address: '127.0.0.1', transport: 'tcp' },
    );
  });

  it('reassembles a call sent as many small fragments', async () => {
    const c = await client();
    const payload = Buffer.from('fragmented call body, reassembled by the server');
    const r = await c.call({ prog: TEST_PROG, vers: 1, proc: PROC_ECHO, args: new XdrWriter().opaque(payload), fragmentBytes: 4 });
    assert.deepEqual(successBody(r).opaque(1024), payload);
  });

  it('reassembles calls whose bytes arrive one at a time, then answers each', async () => {
    const c = await client();
    const xids = [c.newXid(), c.newXid()];
    const replies = xids.map((xid) => c.expect(xid));
    const wire = Buffer.concat(xids.map((xid) => {
      const msg = encodeTestCall({ prog: TEST_PROG, vers: 1, proc: PROC_NULL }, xid);
      return Buffer.concat([recordMark(msg.length), msg]);
    }));
    for (let i = 0; i < wire.length; i++) c.writeRaw(wire.subarray(i, i + 1));
    for (const r of await Promise.all(replies)) assert.equal(r.stat, SUCCESS);
  });

  it('closes a connection whose record exceeds the limit and keeps serving others', async () => {
    await start({ maxRecordBytes: 4096 });
    const bad = await client();
    bad.writeRaw(Buffer.concat([recordMark(1024 * 1024), Buffer.alloc(1024)]));
    await bad.serverEnded;
    const good = await client();
    assert.equal((await good.call({ prog: TEST_PROG, vers: 1, proc: PROC_NULL })).stat, SUCCESS);
    await waitFor(() => server.stats().connections === 1, 'the dropped connection to be forgotten');
  });

  it('still answers the calls of a client that half-closed, then ends its side', async () => {
    const c = await client();
    const calls = [1, 2, 3].map((id) => c.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(id) }));
    c.end();
    await waitFor(() => state.entered.length === 3, 'the three calls to start');
    for (const id of [3, 1, 2]) state.open(id);
    const ids = await Promise.all(calls.map(async (x) => successBody(await x.reply).u32()));
    assert.deepEqual(ids, [1, 2, 3]);
    await c.serverEnded;
    await c.closed;
  });

  it('aborts the call signal when the client resets, drops the late reply and keeps serving', async () => {
    const c = await client();
    c.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(1) }).reply.catch(() => undefined);
    await waitFor(() => state.entered.length === 1, 'the call to start');
    const signal = state.signals.get(1);
    assert.ok(signal !== undefined);
    c.reset();
    await waitFor(() => signal.aborted, 'the connection signal to abort');
    state.open(1);
    await waitFor(() => server.stats().connections === 0, 'the connection to be forgotten');
    const d = await client();
    assert.equal((await d.call({ prog: TEST_PROG, vers: 1, proc: PROC_NULL })).stat, SUCCESS);
  });

  it('pauses reading past the per-connection in-flight limit and resumes below it', async () => {
    await start({ maxInFlightPerConnection: 4 });
    const c = await client();
    const calls = Array.from({ length: 10 }, (_, id) => c.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(id) }));
    await waitFor(() => state.entered.length === 4, 'four calls to run');
    await waitFor(() => server.stats().pausedConnections === 1, 'reading to pause');
    assert.equal(server.stats().inFlight, 4);
    for (const [id, call] of calls.entries()) {
      await waitFor(() => state.entered.includes(id), `call ${id} to start`);
      state.open(id);
      assert.equal(successBody(await call.reply).u32(), id);
    }
    assert.equal(state.maxRunning, 4);
    await waitFor(() => server.stats().pausedConnections === 0, 'reading to resume');
  });

  it('bounds the calls processed at once over all connections, and serves waiting connections in turn', async () => {
    await start({ maxInFlight: 3 });
    const [a, b, c] = [await client(), await client(), await client()];
    const send = (conn: RpcTestClient, ids: number[]): Promise<number>[] => ids.map(async (id) =>
      successBody(await conn.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(id) }).reply).u32());
    const fromA = send(a, [0, 1, 2, 3, 4, 5]);
    await waitFor(() => state.entered.length === 3 && server.stats().slotWaitingConnections === 1, 'a to fill the slots and wait');
    const fromB = send(b, [10]);
    await waitFor(() => server.stats().slotWaitingConnections === 2, 'b to wait');
    const fromC = send(c, [20, 21]);
    await waitFor(() => server.stats().slotWaitingConnections === 3, 'c to wait');
    assert.deepEqual(state.entered, [0, 1, 2]);
    // Each freed slot goes to the connection that waited longest; a does not take them all.
    for (const [n, id] of [0, 1, 2, 3, 10, 20, 4, 21, 5].entries()) {
      state.open(id);
      if (n + 3 < 9) await waitFor(() => state.entered.length === n + 4, `call ${n + 4} to start`);
    }
    assert.deepEqual(state.entered, [0, 1, 2, 3, 10, 20, 4, 21, 5]);
    assert.deepEqual(await Promise.all([...fromA, ...fromB, ...fromC]), [0, 1, 2, 3, 4, 5, 10, 20, 21]);
    assert.equal(state.maxRunning, 3);
    assert.equal(server.stats().slotWaitingConnections, 0);
  });

  it('closes a connection idle for idleTimeoutMs, but not one with a call in flight', async () => {
    await start({ idleTimeoutMs: 150 });
    const idle = await client();
    assert.equal((await idle.call({ prog: TEST_PROG, vers: 1, proc: PROC_NULL })).stat, SUCCESS);
    const busy = await client();
    const call = busy.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(7) });
    await idle.serverEnded;
    await waitFor(() => server.stats().connections === 1, 'the idle connection to be forgotten');
    await new Promise((r) => setTimeout(r, 400));
    state.open(7);
    assert.equal(successBody(await call.reply).u32(), 7);
    await busy.serverEnded;
  });

  it('tells a procedure when its reply has been written, so pooled reply buffers are reused only after the socket took them', async () => {
    await start({ maxInFlightPerConnection: 8 });
    const c = await client();
    c.socket.pause(); // replies back up in the socket: their buffers must stay untouched until written
    const n = 40;
    const calls = Array.from({ length: n }, (_, i) => ({ len: POOLED_SIZE - i, ...c.send({ prog: TEST_PROG, vers: 1, proc: PROC_POOLED, args: new XdrWriter().u32(POOLED_SIZE - i) }) }));
    await waitFor(() => server.stats().drainWaitingConnections === 1, 'the server to wait for drain');
    assert.ok(state.pooledSent < n, 'replies still queued are not reported sent');
    c.socket.resume();
    for (const call of calls) {
      const data = successBody(await call.reply).opaque(POOLED_SIZE); // length, bytes, padding: an XDR opaque
      assert.equal(data.length, call.len);
      assert.ok(data.every((b) => b === (call.len & 0xff)), `reply ${call.len} is intact`);
    }
    await waitFor(() => state.pooledSent === n, 'every reply to be reported sent');
    assert.ok(state.pool.idle > 0 && state.pool.idle <= 4, 'buffers went back to the pool');
  });

  it('reports a reply that will not be sent (connection reset) as done, so its buffer is not held', async () => {
    const c = await client();
    const id = 7;
    void c.send({ prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(id) }).reply.catch(() => undefined);
    void c.send({ prog: TEST_PROG, vers: 1, proc: PROC_POOLED, args: new XdrWriter().u32(100) }).reply.catch(() => undefined);
    await waitFor(() => state.entered.includes(id), 'the gated call to run');
    c.socket.destroy();
    await waitFor(() => state.pooledSent === 1, 'the pooled reply to be reported done');
    state.open(id);
  });

  it('waits for drain when the client does not read replies, and delivers them all once it does', async () => {
    await start({ maxInFlightPerConnection: 4 });
    const c = await client();
    c.socket.pause();
    const n = 24;
    const size = 1024 * 1024;
    const calls = Array.from({ length: n }, () => c.send({ prog: TEST_PROG, vers: 1, proc: PROC_BIG, args: new XdrWriter().u32(size + 1) }));
    await waitFor(() => server.stats().drainWaitingConnections === 1, 'the server to wait for drain');
    await waitFor(() => server.stats().pausedConnections === 1, 'reading to pause while replies back up');
    assert.ok(server.stats().inFlight <= 4);
    c.socket.resume();
    for (const call of calls) {
      const body = successBody(await call.reply).opaque(2 * size);
      assert.equal(body.length, size + 1);
      assert.equal(body[size], (size + 1) & 0xff);
    }
  });
});
