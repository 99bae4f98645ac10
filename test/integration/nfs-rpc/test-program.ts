/**
 * A made-up RPC program (prog 0x20000101, versions 1 and 2) whose procedures let the server tests
 * steer timing and failures: echo, wait for a gate the test opens, throw, return N bytes, report
 * the call context, count executions (non-idempotent). Real procedures, not mocks of the server.
 */
import { defineProcedure, type RpcCallContext, type RpcProgram } from '../../../src/protocols/nfs/rpc/dispatcher.js';
import { BufferPool } from '../../../src/util/buffer-pool.js';
import { XdrWriter } from '../../../src/protocols/nfs/xdr/writer.js';
import { Deferred } from '../../helpers/deferred.js';

export const TEST_PROG = 0x20000101;

export const PROC_NULL = 0;
export const PROC_ECHO = 1;
export const PROC_GATED = 2;
export const PROC_THROW = 3;
export const PROC_BIG = 4;
export const PROC_WHOAMI = 5;
export const PROC_COUNT = 6;
/** Answers N bytes of value N & 0xff out of a pooled buffer it takes back once the reply is sent. */
export const PROC_POOLED = 7;
/** Size of PROC_POOLED's buffers. */
export const POOLED_SIZE = 256 * 1024;

/** State shared between the test and the procedures. */
export class TestProgramState {
  /** Gates by id; a GATED call with id N waits for gate(N) to be opened. */
  readonly #gates = new Map<number, Deferred>();
  /** Ids of GATED calls that have started, in start order. */
  readonly entered: number[] = [];
  running = 0;
  maxRunning = 0;
  counted = 0;
  /** PROC_POOLED's buffers, and how many of its replies the transport has reported sent. */
  readonly pool = new BufferPool(POOLED_SIZE, 4);
  pooledSent = 0;
  /** Signals of GATED calls by id, to observe aborts. */
  readonly signals = new Map<number, AbortSignal>();

  gate(id: number): Deferred {
    let g = this.#gates.get(id);
    if (g === undefined) {
      g = new Deferred();
      this.#gates.set(id, g);
    }
    return g;
  }

  open(id: number): void {
    this.gate(id).resolve();
  }
}

export function testProgram(state: TestProgramState, vers = 1): RpcProgram {
  const gated = async (id: number, ctx: RpcCallContext): Promise<number> => {
    state.entered.push(id);
    state.signals.set(id, ctx.signal);
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    try {
      await state.gate(id).promise;
    } finally {
      state.running--;
    }
    return id;
  };
  return {
    prog: TEST_PROG,
    vers,
    name: `test${vers}`,
    procedures: new Map([
      [PROC_NULL, defineProcedure<void, void>({ name: 'NULL', decodeArgs: () => undefined, handle: () => undefined, encodeResult: () => undefined })],
      [PROC_ECHO, defineProcedure<Buffer, Buffer>({ name: 'ECHO', decodeArgs: (r) => r.opaque(1024), handle: (b) => b, encodeResult: (w, b) => w.opaque(b) })],
      [PROC_GATED, defineProcedure<number, number>({ name: 'GATED', decodeArgs: (r) => r.u32(), handle: gated, encodeResult: (w, id) => w.u32(id) })],
      [PROC_THROW, defineProcedure<void, void>({
        name: 'THROW', decodeArgs: () => undefined, handle: () => { throw new Error('procedure bug'); }, encodeResult: () => undefined,
      })],
      [PROC_BIG, defineProcedure<number, Buffer>({
        name: 'BIG', decodeArgs: (r) => r.u32(), handle: (n) => Buffer.alloc(n, n & 0xff), encodeResult: (w, b) => w.opaque(b),
      })],
      [PROC_WHOAMI, defineProcedure<void, RpcCallContext>({
        name: 'WHOAMI', decodeArgs: () => undefined, handle: (_a, ctx) => ctx,
        encodeResult: (w, ctx) => w.u32(ctx.cred.uid).u32(ctx.cred.gid).array(ctx.cred.gids, (x, g) => x.u32(g)).u32(ctx.auth.flavor).u32(ctx.peer.port).string(ctx.peer.address).string(ctx.transport),
      })],
      [PROC_POOLED, {
        name: 'POOLED', nonIdempotent: false,
        async call(r, ctx) {
          const n = Math.min(r.u32(), POOLED_SIZE);
          const buf = state.pool.take();
          buf.fill(n & 0xff, 0, n);
          ctx.afterSent?.(() => {
            state.pooledSent++;
            state.pool.give(buf);
          });
          await new Promise((resolve) => setImmediate(resolve)); // other calls take buffers meanwhile
          return [new XdrWriter().u32(n).view(), buf.subarray(0, n), Buffer.alloc((4 - (n % 4)) % 4)];
        },
      }],
      [PROC_COUNT, defineProcedure<number, number>({
        name: 'COUNT', nonIdempotent: true, decodeArgs: (r) => r.u32(),
        handle: async (id) => {
          state.counted++;
          state.entered.push(id);
          await state.gate(id).promise;
          return state.counted;
        },
        encodeResult: (w, n) => w.u32(n),
      })],
    ]),
  };
}
