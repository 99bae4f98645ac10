/**
 * One TCP connection of the RPC server (RFC 5531 §11): reassembles records, runs many calls
 * concurrently and writes each reply, record-marked, as soon as it is ready (out of xid order).
 * Flow control: reading pauses while `maxInFlight` calls are unanswered (a reply waiting for the
 * socket to drain still counts) or while the server-wide CallSlots are all taken (a call holds a
 * slot until it is processed), and resumes below; a record over `maxRecordBytes` closes the
 * connection, and so does `idleTimeoutMs` without traffic and with nothing in flight. A
 * half-closed peer still gets its replies; after a close or reset, late replies are dropped and
 * the connection's AbortSignal fires. Never throws into the event loop.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../../observability/logger.js';
import type { CallSlots } from './call-slots.js';
import type { Peer, RpcDispatcher } from './dispatcher.js';
import { encodeRecord, RecordDecoder, RecordPool, RecordTooLargeError } from './record-marking.js';

/**
 * Buffers for calls that span socket chunks, shared by all connections: records of 64 KiB up to a
 * 1 MiB WRITE and its header; up to 32 idle (32 MiB). Procedures that keep no view of their
 * arguments (WRITE) give theirs back when they settle; other records are left to the GC.
 */
const recordPool = new RecordPool(64 * 1024, 1024 * 1024 + 4096, 32);

export interface ConnectionOptions {
  maxRecordBytes: number;
  maxInFlight: number;
  /** Server-wide bound on calls being processed, shared with the other connections. */
  slots: CallSlots;
  /** Close after this long without traffic while nothing is in flight; 0 never. */
  idleTimeoutMs: number;
  /**
   * The socket reads into a reused buffer (net.Socket `onread`) and its owner hands each chunk to
   * receive(); otherwise the connection listens to 'data' events.
   */
  transientReads?: boolean;
}

export interface ConnectionStats {
  /** Calls dispatched whose reply has not yet been handed to the socket. */
  inFlight: number;
  /** Whole records received but waiting for an in-flight slot. */
  queued: number;
  /** Reading is paused by flow control. */
  paused: boolean;
  /** The socket refused more data (write() returned false) and we wait for 'drain'. */
  waitingForDrain: boolean;
  /** A queued call waits for a server-wide slot. */
  waitingForSlot: boolean;
}

/** "::ffff:1.2.3.4" (a v4 peer on a dual-stack socket) -> "1.2.3.4". */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class RpcConnection {
  readonly peer: Peer;
  readonly #socket: Socket;
  readonly #dispatcher: RpcDispatcher;
  readonly #opts: ConnectionOptions;
  readonly #log: Logger;
  readonly #decoder: RecordDecoder;
  readonly #abort = new AbortController();
  #inFlight = 0;
  /** Records waiting for a slot; at most one socket chunk's worth, since reading pauses. */
  readonly #queue: Buffer[] = [];
  /** Framed replies waiting for 'drain'; each still counts as in flight. */
  readonly #out: { frames: Buffer[]; sent: (() => void)[] | undefined }[] = [];
  #waitingForDrain = false;
  #paused = false;
  #readEnded = false;
  #writeEnded = false;
  #closed = false;
  #waitingForSlot = false;

  constructor(socket: Socket, dispatcher: RpcDispatcher, opts: ConnectionOptions, log: Logger, onClose: (c: RpcConnection) => void) {
    this.#socket = socket;
    this.#dispatcher = dispatcher;
    this.#opts = opts;
    this.peer = { address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
    this.#log = log.child({ peer: `${this.peer.address}:${this.peer.port}` });
    this.#decoder = new RecordDecoder(opts.maxRecordBytes, recordPool, opts.transientReads === true);

    socket.setNoDelay(true);
    if (opts.transientReads !== true) socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs);
      socket.on('timeout', this.#onTimeout);
    }
    socket.once('close', () => {
      this.#closed = true;
      this.#queue.length = 0;
      this.#inFlight -= this.#out.length;
      this.#out.length = 0;
      socket.off('data', this.#onData);
      socket.off('drain', this.#onDrain);
      socket.off('end', this.#onEnd);
      socket.off('error', this.#onError);
      socket.off('timeout', this.#onTimeout);
      this.#opts.slots.cancel(this.#onSlot);
      this.#waitingForSlot = false;
      this.#abort.abort(new Error('connection closed'));
      this.#log.debug('rpc connection closed');
      onClose(this);
    });
    this.#log.debug('rpc connection opened');
  }

  /** Aborted when the connection closes, whatever the reason. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  stats(): ConnectionStats {
    return { inFlight: this.#inFlight, queued: this.#queue.length, paused: this.#paused, waitingForDrain: this.#waitingForDrain, waitingForSlot: this.#waitingForSlot };
  }

  /** Closes the connection at once; in-flight replies are dropped. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Takes one chunk read into the socket's reused buffer (transientReads); copies what it keeps. */
  receive(chunk: Buffer): void {
    if (!this.#closed) this.#onData(chunk);
  }

  readonly #onData = (chunk: Buffer): void => {
    let records: Buffer[];
    try {
      records = this.#decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof RecordTooLargeError)) throw err;
      this.#log.warn({ recordBytes: err.recordBytes, maxRecordBytes: err.maxRecordBytes }, 'rpc record too large, closing connection');
      this.#socket.destroy();
      return;
    }
    for (const r of records) this.#queue.push(r);
    this.#pump();
  };

  readonly #onEnd = (): void => {
    this.#readEnded = true;
    if (!this.#decoder.idle) this.#log.debug('rpc connection half-closed inside a record; partial record discarded');
    this.#pump();
  };

  readonly #onError = (err: Error): void => {
    // ECONNRESET, EPIPE and friends: the socket is destroyed next and 'close' cleans up.
    this.#log.debug({ err }, 'rpc connection error');
  };

  /** No traffic for idleTimeoutMs: close when idle, else look again after another period. */
  readonly #onTimeout = (): void => {
    if (this.#inFlight === 0 && this.#queue.length === 0) {
      this.#log.debug({ idleTimeoutMs: this.#opts.idleTimeoutMs }, 'rpc connection idle, closing');
      this.#socket.destroy();
      return;
    }
    this.#socket.setTimeout(this.#opts.idleTimeoutMs);
  };

  /** A server-wide slot is free for us: the CallSlots line woke us. */
  readonly #onSlot = (): void => {
    this.#waitingForSlot = false;
    this.#pump();
  };

  readonly #onDrain = (): void => {
    this.#waitingForDrain = false;
    while (this.#out.length > 0 && !this.#waitingForDrain) {
      const next = this.#out.shift();
      if (next !== undefined) this.#write(next.frames, next.sent);
    }
    this.#pump();
  };

  /** Starts queued calls while slots are free, then sets the read flow and the write side's end. */
  #pump(): void {
    while (!this.#closed && !this.#waitingForSlot && this.#queue.length > 0 && this.#inFlight < this.#opts.maxInFlight) {
      if (!this.#opts.slots.tryTake()) {
        this.#waitingForSlot = true;
        this.#opts.slots.wait(this.#onSlot);
        break;
      }
      const record = this.#queue.shift();
      if (record !== undefined) this.#start(record);
      else this.#opts.slots.give();
    }
    if (this.#closed) return;
    const full = this.#queue.length > 0 || this.#inFlight >= this.#opts.maxInFlight;
    if (full && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    } else if (!full && this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    if (this.#readEnded && !this.#writeEnded && this.#inFlight === 0 && this.#queue.length === 0) {
      this.#writeEnded = true;
      this.#socket.end();
    }
  }

  /** Runs one call holding a server-wide slot, which it returns once the reply is ready. */
  #start(record: Buffer): void {
    this.#inFlight++;
    let sent: (() => void)[] | undefined; // run once the reply has been written
    const transport = {
      peer: this.peer, transport: 'tcp' as const, signal: this.#abort.signal, log: this.#log,
      recordDone: () => recordPool.give(record),
      afterSent: (fn: () => void) => { (sent ??= []).push(fn); },
    };
    this.#dispatcher.dispatch(record, transport).then(
      (reply) => {
        this.#opts.slots.give();
        this.#reply(reply, sent);
      },
      (err: unknown) => {
        this.#opts.slots.give();
        this.#log.error({ err }, 'rpc dispatch failed');
        this.#reply(null, sent);
      },
    );
  }

  #reply(reply: Buffer[] | null, sent: (() => void)[] | undefined): void {
    if (this.#closed || reply === null) {
      runAll(sent);
      this.#inFlight--;
      this.#pump();
      return;
    }
    const frames = encodeRecord(reply);
    if (this.#waitingForDrain) {
      this.#out.push({ frames, sent });
      return;
    }
    this.#write(frames, sent);
    this.#pump();
  }

  /**
   * Writes one framed reply in a single writev, then runs `sent` once the socket has taken it (or
   * at once when it will not be written); it leaves the in-flight count on return.
   */
  #write(frames: Buffer[], sent: (() => void)[] | undefined): void {
    this.#inFlight--;
    if (this.#socket.destroyed || !this.#socket.writable) {
      runAll(sent);
      return;
    }
    this.#socket.cork();
    let ok = true;
    const last = frames.length - 1;
    frames.forEach((f, i) => {
      ok = i === last && sent !== undefined ? this.#socket.write(f, () => runAll(sent)) : this.#socket.write(f);
    });
    this.#socket.uncork();
    if (!ok) this.#waitingForDrain = true;
  }
}

function runAll(fns: (() => void)[] | undefined): void {
  if (fns !== undefined) for (const fn of fns) fn();
}
