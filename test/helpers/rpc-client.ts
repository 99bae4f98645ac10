/**
 * A small ONC RPC test client (TCP with record marking, and UDP): pipelines calls on one
 * connection and matches replies by xid, can send raw or fragmented records, half-close or reset
 * the connection, and keeps replies it did not expect. Uses the codec from src (tested on its
 * own with byte-level fixtures), never the server code.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { encodeAuthSys } from '../../src/protocols/nfs/rpc/auth-unix.js';
import { decodeReply, encodeCall, NULL_AUTH, SUCCESS, type DecodedReply, type OpaqueAuth } from '../../src/protocols/nfs/rpc/message.js';
import { encodeRecord, RecordDecoder } from '../../src/protocols/nfs/rpc/record-marking.js';
import { XdrReader } from '../../src/protocols/nfs/xdr/reader.js';
import { XdrWriter } from '../../src/protocols/nfs/xdr/writer.js';

export interface CallSpec {
  prog: number;
  vers: number;
  proc: number;
  args?: Buffer | XdrWriter;
  cred?: OpaqueAuth;
  xid?: number;
  /** Split the record into fragments of this many bytes. */
  fragmentBytes?: number;
  rpcvers?: number;
}

export const sysCred = (uid = 1000, gid = 1000, gids: number[] = []): OpaqueAuth =>
  encodeAuthSys({ stamp: 1, machinename: Buffer.from('test-client'), uid, gid, gids });

const argsOf = (a: Buffer | XdrWriter | undefined): Buffer => a === undefined ? Buffer.alloc(0) : Buffer.isBuffer(a) ? a : a.toBuffer();

export function encodeTestCall(spec: CallSpec, xid: number): Buffer {
  return encodeCall({ xid, rpcvers: spec.rpcvers ?? 2, prog: spec.prog, vers: spec.vers, proc: spec.proc, cred: spec.cred ?? NULL_AUTH, verf: NULL_AUTH }, argsOf(spec.args));
}

/** The result body of a SUCCESS reply, as a reader; fails the test otherwise. */
export function successBody(reply: DecodedReply): XdrReader {
  if (reply.stat !== SUCCESS) throw new Error(`expected SUCCESS, got ${JSON.stringify(reply)}`);
  return new XdrReader(reply.body);
}

export class RpcTestClient {
  readonly socket: Socket;
  /** Every reply, in arrival order. */
  readonly received: DecodedReply[] = [];
  /** Resolves when the server ends its side of the connection. */
  readonly serverEnded: Promise<void>;
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;
  readonly #waiters = new Map<number, { resolve: (r: DecodedReply) => void; reject: (e: Error) => void }[]>();
  readonly #decoder = new RecordDecoder(64 * 1024 * 1024);
  #nextXid = randomInt(1, 0x40000000);

  private constructor(socket: Socket) {
    this.socket = socket;
    // record mark and body are separate writes: without this, Nagle + delayed ACK add ~40 ms per call
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const record of this.#decoder.push(chunk)) this.#onReply(decodeReply(record));
    });
    this.serverEnded = new Promise((resolve) => socket.once('end', () => resolve()));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      for (const list of this.#waiters.values()) for (const w of list) w.reject(new Error('connection closed'));
      this.#waiters.clear();
      resolve();
    }));
    socket.on('error', () => undefined);
  }

  static connect(port: number, opts: { host?: string; localPort?: number } = {}): Promise<RpcTestClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: opts.host ?? '127.0.0.1', allowHalfOpen: true, ...(opts.localPort === undefined ? {} : { localPort: opts.localPort }) });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RpcTestClient(s));
      });
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  newXid(): number {
    return this.#nextXid++;
  }

  #onReply(reply: DecodedReply): void {
    this.received.push(reply);
    const list = this.#waiters.get(reply.xid);
    const w = list?.shift();
    if (list !== undefined && list.length === 0) this.#waiters.delete(reply.xid);
    w?.resolve(reply);
  }

  /** A promise for the next reply carrying `xid` (several may wait for one xid). */
  expect(xid: number): Promise<DecodedReply> {
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(xid) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(xid, list);
    });
  }

  /** Frames and writes one call without waiting; returns its xid and reply promise. */
  send(spec: CallSpec): { xid: number; reply: Promise<DecodedReply> } {
    const xid = spec.xid ?? this.newXid();
    const reply = this.expect(xid);
    this.writeRecord(encodeTestCall(spec, xid), spec.fragmentBytes);
    return { xid, reply };
  }

  call(spec: CallSpec): Promise<DecodedReply> {
    return this.send(spec).reply;
  }

  /** Record-marks and writes a message body as is. */
  writeRecord(body: Buffer, fragmentBytes?: number): void {
    for (const b of encodeRecord(body, fragmentBytes)) this.socket.write(b);
  }

  /** Writes bytes with no framing. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Half-closes: no more calls, replies still readable. */
  end(): void {
    this.socket.end();
  }

  /** Closes with a TCP reset. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

/** One call over UDP; resolves to the first reply with its xid. */
export function udpCall(port: number, spec: CallSpec, timeoutMs = 3000): Promise<DecodedReply> {
  const xid = spec.xid ?? randomInt(1, 0x40000000);
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP reply for xid ${xid}`));
    }, timeoutMs);
    s.on('message', (msg) => {
      const reply = decodeReply(msg);
      if (reply.xid !== xid) return;
      clearTimeout(timer);
      s.close();
      resolve(reply);
    });
    s.send(encodeTestCall(spec, xid), port, '127.0.0.1');
  });
}
