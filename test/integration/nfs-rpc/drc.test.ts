import assert from 'node:assert/strict';
import { DuplicateRequestCache } from '../../../src/protocols/nfs/drc.js';
import { RpcServer } from '../../../src/protocols/nfs/rpc/server.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { waitFor } from '../../helpers/deferred.js';
import { RpcTestClient, successBody } from '../../helpers/rpc-client.js';
import { PROC_COUNT, PROC_GATED, TEST_PROG, TestProgramState, testProgram } from './test-program.js';

describe('duplicate request cache behind the RPC server', () => {
  let server: RpcServer;
  let drc: DuplicateRequestCache;
  let state: TestProgramState;
  let port: number;
  const clients: RpcTestClient[] = [];

  beforeEach(async () => {
    drc = new DuplicateRequestCache();
    server = new RpcServer({ drc });
    state = new TestProgramState();
    server.register(testProgram(state));
    port = (await server.listenTcp(0)).port;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  const connect = async (localPort?: number): Promise<RpcTestClient> => {
    const c = await RpcTestClient.connect(port, localPort === undefined ? {} : { localPort });
    clients.push(c);
    return c;
  };
  const count = (id: number, xid: number) => ({ prog: TEST_PROG, vers: 1, proc: PROC_COUNT, args: new XdrWriter().u32(id), xid });

  it('executes a non-idempotent call once and answers its retransmissions with the same reply', async () => {
    const c = await connect();
    const xid = c.newXid();
    const first = c.send(count(1, xid)).reply;
    await waitFor(() => state.entered.length === 1, 'the call to start');
    const retransmit = c.send(count(1, xid)).reply;
    await waitFor(() => drc.stats().joined === 1, 'the retransmission to join the running call');
    state.open(1);
    const [a, b] = await Promise.all([first, retransmit]);
    assert.equal(successBody(a).u32(), 1);
    assert.deepEqual(b, a);
    const late = await c.call(count(1, xid));
    assert.deepEqual(late, a);
    assert.equal(state.counted, 1);
    assert.deepEqual({ executed: drc.stats().executed, replayed: drc.stats().replayed }, { executed: 1, replayed: 1 });
  });

  it('executes a new xid from the same client again', async () => {
    const c = await connect();
    state.open(1);
    await c.call(count(1, c.newXid()));
    await c.call(count(1, c.newXid()));
    assert.equal(state.counted, 2);
  });

  it('answers a retransmission on a new connection from the same port after a reset with the original reply', async () => {
    const c = await connect();
    const localPort = c.localPort;
    const xid = c.newXid();
    c.send(count(7, xid)).reply.catch(() => undefined);
    await waitFor(() => state.entered.length === 1, 'the call to start');
    c.reset();
    await waitFor(() => server.stats().connections === 0, 'the server to see the reset');
    const again = await reconnectFrom(localPort);
    const retransmit = again.send(count(7, xid)).reply;
    await waitFor(() => drc.stats().joined === 1, 'the retransmission to join the running call');
    state.open(7);
    assert.equal(successBody(await retransmit).u32(), 1);
    assert.equal(state.counted, 1);
  });

  /** Binding the reset socket's port again can race the kernel releasing it: retry EADDRINUSE briefly. */
  async function reconnectFrom(localPort: number): Promise<Awaited<ReturnType<typeof connect>>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await connect(localPort);
      } catch (err) {
        if (attempt >= 200 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  it('does not cache idempotent procedures', async () => {
    const c = await connect();
    state.open(3);
    const xid = c.newXid();
    const spec = { prog: TEST_PROG, vers: 1, proc: PROC_GATED, args: new XdrWriter().u32(3), xid };
    await c.call(spec);
    await c.call(spec);
    assert.deepEqual(state.entered, [3, 3]);
    assert.equal(drc.stats().executed, 0);
  });
});
