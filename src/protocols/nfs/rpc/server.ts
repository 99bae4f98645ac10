/**
 * The RPC server: owns one program table (RpcDispatcher) and serves it over TCP listeners
 * (connection.ts does the per-connection work, CallSlots bounds the calls of all of them; sockets
 * read into a reused buffer, tcp-accept.ts) and UDP sockets, where one datagram is one call
 * and one reply (RFC 5531 §11 applies to TCP only). A server instance, never module state, so
 * tests and several exports can run side by side. It does not know any program.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { logger as rootLogger, type Logger } from '../../../observability/logger.js';
import type { OpObserver } from '../../../observability/ops.js';
import type { DuplicateRequestCache } from '../drc.js';
import { CallSlots } from './call-slots.js';
import { RpcConnection, normalizeAddress } from './connection.js';
import { RpcDispatcher, type RpcProgram } from './dispatcher.js';
import { acceptDirect } from './tcp-accept.js';

export interface RpcServerOptions {
  /** Largest record accepted on a TCP connection; bigger closes the connection. */
  maxRecordBytes: number;
  /** Unanswered calls per TCP connection before reading pauses. */
  maxInFlightPerConnection: number;
  /** Calls processed at once over all TCP connections; past it connections wait in line. 0: no bound. */
  maxInFlight: number;
  /** A TCP connection without traffic and with nothing in flight for this long is closed; 0: never. */
  idleTimeoutMs: number;
  /** Unanswered UDP calls per UDP socket; datagrams beyond are dropped (clients retransmit). */
  maxUdpInFlight: number;
  /** Shared by every transport of this server; null disables it. */
  drc: DuplicateRequestCache | null;
  log: Logger;
  /** Told about every dispatched call (metrics); none by default. */
  observer: OpObserver | undefined;
}

/** Server-wide calls in processing: with 1 MiB WRITEs about 256 MiB of payload. */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** Longer than the Linux client's own 5 min idle close, as knfsd (6 min) does. */
export const DEFAULT_IDLE_TIMEOUT_MS = 360_000;

/** 1 MiB READ/WRITE payloads plus headers fit; see research/nfs.md §4. */
export const DEFAULT_MAX_RECORD_BYTES = 2 * 1024 * 1024 + 64 * 1024;

export interface RpcServerStats {
  connections: number;
  inFlight: number;
  queued: number;
  pausedConnections: number;
  drainWaitingConnections: number;
  /** Connections with a call waiting for a server-wide slot. */
  slotWaitingConnections: number;
  udpInFlight: number;
  /** Datagrams dropped because maxUdpInFlight was reached. */
  udpDropped: number;
}

export class RpcServer {
  readonly dispatcher: RpcDispatcher;
  readonly #opts: RpcServerOptions;
  readonly #log: Logger;
  readonly #tcp: Server[] = [];
  readonly #udp: UdpSocket[] = [];
  readonly #connections = new Set<RpcConnection>();
  readonly #abort = new AbortController();
  readonly #slots: CallSlots;
  #nextConn = 1;
  #udpInFlight = 0;
  #udpDropped = 0;

  constructor(opts: Partial<RpcServerOptions> = {}) {
    this.#opts = {
      maxRecordBytes: opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      maxInFlightPerConnection: opts.maxInFlightPerConnection ?? 128,
      maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      maxUdpInFlight: opts.maxUdpInFlight ?? 256,
      drc: opts.drc ?? null,
      log: opts.log ?? rootLogger.child({ module: 'nfs-rpc' }),
      observer: opts.observer,
    };
    this.#log = this.#opts.log;
    this.#slots = new CallSlots(this.#opts.maxInFlight);
    this.dispatcher = new RpcDispatcher({ drc: this.#opts.drc, observer: this.#opts.observer });
  }

  register(program: RpcProgram): this {
    this.dispatcher.register(program);
    return this;
  }

  stats(): RpcServerStats {
    const s: RpcServerStats = { connections: 0, inFlight: 0, queued: 0, pausedConnections: 0, drainWaitingConnections: 0, slotWaitingConnections: 0, udpInFlight: this.#udpInFlight, udpDropped: this.#udpDropped };
    for (const c of this.#connections) {
      const cs = c.stats();
      s.connections++;
      s.inFlight += cs.inFlight;
      s.queued += cs.queued;
      if (cs.paused) s.pausedConnections++;
      if (cs.waitingForDrain) s.drainWaitingConnections++;
      if (cs.waitingForSlot) s.slotWaitingConnections++;
    }
    return s;
  }

  /** Listens for TCP on host:port (port 0 picks one); resolves to the bound address. */
  listenTcp(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    server.on('error', (err) => this.#log.error({ err }, 'rpc tcp listener error'));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        this.#tcp.push(server);
        acceptDirect(server, {
          accepted: (socket) => {
            const conn = this.#accept(socket, true);
            return (chunk) => conn.receive(chunk);
          },
          failed: (errno) => this.#log.warn({ errno }, 'rpc tcp accept failed'),
        });
        const addr = server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('tcp listener has no address'));
        this.#log.info({ address: addr.address, port: addr.port }, 'rpc tcp listening');
        resolve(addr);
      });
    });
  }

  /** Binds a UDP socket on host:port (port 0 picks one); resolves to the bound address. */
  listenUdp(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => this.#datagram(socket, msg, rinfo));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.#log.warn({ err }, 'rpc udp socket error'));
        this.#udp.push(socket);
        const addr = socket.address();
        this.#log.info({ address: addr.address, port: addr.port }, 'rpc udp listening');
        resolve(addr);
      });
    });
  }

  /** Stops listening, closes every connection (in-flight replies are dropped) and aborts calls. */
  async close(): Promise<void> {
    this.#abort.abort(new Error('server closed'));
    const closing = this.#tcp.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const c of this.#connections) c.destroy();
    for (const u of this.#udp.splice(0)) closing.push(new Promise<void>((resolve) => u.close(() => resolve())));
    await Promise.all(closing);
  }

  #accept(socket: Socket, transientReads = false): RpcConnection {
    const conn = new RpcConnection(
      socket,
      this.dispatcher,
      {
        maxRecordBytes: this.#opts.maxRecordBytes,
        maxInFlight: this.#opts.maxInFlightPerConnection,
        slots: this.#slots,
        idleTimeoutMs: this.#opts.idleTimeoutMs,
        transientReads,
      },
      this.#log.child({ conn: this.#nextConn++ }),
      (c) => this.#connections.delete(c),
    );
    this.#connections.add(conn);
    return conn;
  }

  #datagram(socket: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#udpInFlight >= this.#opts.maxUdpInFlight) {
      this.#udpDropped++;
      this.#log.debug({ peer: `${rinfo.address}:${rinfo.port}` }, 'rpc udp call dropped: too many in flight');
      return;
    }
    this.#udpInFlight++;
    const peer = { address: normalizeAddress(rinfo.address), port: rinfo.port };
    const log = this.#log.child({ peer: `${peer.address}:${peer.port}`, transport: 'udp' });
    this.dispatcher.dispatch(msg, { peer, transport: 'udp', signal: this.#abort.signal, log }).then(
      (reply) => {
        this.#udpInFlight--;
        if (reply === null || this.#abort.signal.aborted) return;
        socket.send(reply, rinfo.port, rinfo.address, (err) => {
          if (err) log.warn({ err }, 'rpc udp reply not sent');
        });
      },
      (err: unknown) => {
        this.#udpInFlight--;
        log.error({ err }, 'rpc dispatch failed');
      },
    );
  }
}
