/**
 * A minimal one-shot ONC RPC client (RFC 5531): one call over a fresh TCP connection
 * (record-marked) or over UDP (one datagram, retransmitted until the deadline), matched by xid.
 * For the few calls the server itself makes, such as registering with the system rpcbind; it is
 * not a general client (no pipelining, no connection reuse).
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { XdrDecodeError } from '../xdr/reader.js';
import { decodeReply, encodeCall, NULL_AUTH, type DecodedReply, type OpaqueAuth } from './message.js';
import { encodeRecord, RecordDecoder } from './record-marking.js';

export interface RpcCallTarget {
  host: string;
  port: number;
  transport: 'tcp' | 'udp';
  /** Whole call, retransmissions included. */
  timeoutMs?: number;
  cred?: OpaqueAuth;
}

export interface RpcCall {
  prog: number;
  vers: number;
  proc: number;
  /** Encoded arguments (4-byte aligned). */
  args?: Buffer;
}

/** The call got no reply in time, or the transport failed. */
export class RpcCallError extends Error {
  override readonly name = 'RpcCallError';
  constructor(readonly code: 'ETIMEDOUT' | 'ECONNECTION' | 'EBADREPLY', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const MAX_REPLY_BYTES = 1024 * 1024;

/** Sends one call and resolves to its decoded reply (any accept or reject status). */
export function rpcCall(target: RpcCallTarget, call: RpcCall): Promise<DecodedReply> {
  const xid = randomInt(1, 0x7fffffff);
  const msg = encodeCall({ xid, prog: call.prog, vers: call.vers, proc: call.proc, cred: target.cred ?? NULL_AUTH, verf: NULL_AUTH }, call.args);
  const timeoutMs = target.timeoutMs ?? 3000;
  return target.transport === 'tcp' ? callTcp(target, xid, msg, timeoutMs) : callUdp(target, xid, msg, timeoutMs);
}

function parse(xid: number, record: Buffer): DecodedReply | null {
  try {
    const reply = decodeReply(record);
    return reply.xid === xid ? reply : null;
  } catch (err) {
    if (err instanceof XdrDecodeError) return null;
    throw err;
  }
}

function callTcp(target: RpcCallTarget, xid: number, msg: Buffer, timeoutMs: number): Promise<DecodedReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const decoder = new RecordDecoder(MAX_REPLY_BYTES);
    const finish = (err: Error | null, reply?: DecodedReply): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const timer = setTimeout(() => finish(new RpcCallError('ETIMEDOUT', `no reply from ${target.host}:${target.port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      for (const b of encodeRecord(msg)) socket.write(b);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const record of decoder.push(chunk)) {
          const reply = parse(xid, record);
          if (reply !== null) return finish(null, reply);
        }
      } catch (err) {
        finish(new RpcCallError('EBADREPLY', 'unreadable reply', { cause: err }));
      }
    });
    socket.on('error', (err) => finish(new RpcCallError('ECONNECTION', `${target.host}:${target.port}: ${err.message}`, { cause: err })));
    socket.on('close', () => finish(new RpcCallError('ECONNECTION', `${target.host}:${target.port} closed before replying`)));
  });
}

function callUdp(target: RpcCallTarget, xid: number, msg: Buffer, timeoutMs: number): Promise<DecodedReply> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, reply?: DecodedReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(resend);
      socket.close();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const send = (): void => socket.send(msg, target.port, target.host, (err) => {
      if (err) finish(new RpcCallError('ECONNECTION', `${target.host}:${target.port}: ${err.message}`, { cause: err }));
    });
    const timer = setTimeout(() => finish(new RpcCallError('ETIMEDOUT', `no reply from ${target.host}:${target.port} within ${timeoutMs} ms`)), timeoutMs);
    const resend = setInterval(send, Math.max(100, Math.floor(timeoutMs / 4)));
    socket.on('message', (m) => {
      const reply = parse(xid, m);
      if (reply !== null) finish(null, reply);
    });
    socket.on('error', (err) => finish(new RpcCallError('ECONNECTION', err.message, { cause: err })));
    send();
  });
}
