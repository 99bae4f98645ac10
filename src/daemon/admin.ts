/**
 * The admin HTTP listener: /metrics (Prometheus text from the registry passed in), /healthz (200
 * while the process runs), /readyz (200 only between markReady() and markStopping(), and while the
 * readiness probe given to markReady answers within READY_PROBE_MS: a load balancer then drains
 * an appliance that cannot reach its metadata engine). Bind it to loopback by default; it has no
 * authentication. It must not serve files or volume data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { logger } from '../observability/logger.js';

const log = logger.child({ module: 'admin' });

export interface AdminOptions {
  /** Address to bind, e.g. 127.0.0.1. */
  host: string;
  /** TCP port; 0 picks a free one (see AdminServer.port). */
  port: number;
  /** Registry served at /metrics. */
  registry: Registry;
}

type State = 'starting' | 'ready' | 'stopping';

/** How long /readyz waits for the readiness probe before it answers 503. */
export const READY_PROBE_MS = 2000;

/** The admin listener; startAdmin() creates and binds one. */
export class AdminServer {
  readonly #server: Server;
  readonly #registry: Registry;
  #state: State = 'starting'; // only markReady/markStopping change it
  #probe: (() => Promise<unknown>) | undefined;
  #probeFailed: string | null = null;

  constructor(registry: Registry) {
    this.#registry = registry;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        log.error({ err, url: req.url }, 'admin request failed');
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      });
    });
  }

  /** Binds host:port; resolves once listening, rejects on EADDRINUSE and the like. */
  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound TCP port. */
  get port(): number { return (this.#server.address() as AddressInfo).port; }

  /**
   * /readyz answers 200 from now on (until markStopping) whenever `probe` (a small read of the
   * volume's metadata) settles successfully within READY_PROBE_MS, else 503 with the reason.
   */
  markReady(probe?: () => Promise<unknown>): void {
    if (this.#state !== 'starting') return;
    this.#state = 'ready';
    this.#probe = probe;
  }

  /** /readyz answers 503 from now on, so load balancers drain this appliance. */
  markStopping(): void { this.#state = 'stopping'; }

  /** Stops listening and closes idle keep-alive connections. Idempotent. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.close((err) => (err ? reject(err) : resolve()));
      this.#server.closeIdleConnections();
    });
  }

  /** Null when the readiness probe passes; else why not (logged when that changes). */
  async #probeFailure(): Promise<string | null> {
    if (this.#probe === undefined) return null;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the metadata engine did not answer within ${READY_PROBE_MS} ms`)), READY_PROBE_MS);
    });
    let failure: string | null = null;
    try {
      await Promise.race([this.#probe(), late]);
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
    if ((failure === null) !== (this.#probeFailed === null)) {
      if (failure === null) log.info('readiness probe passes again');
      else log.warn({ reason: failure }, 'readiness probe failed: /readyz answers 503');
    }
    this.#probeFailed = failure;
    return failure;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    switch (path) {
      case '/healthz':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        if (this.#state !== 'ready') return send(res, 503, `${this.#state}\n`);
        const failure = await this.#probeFailure();
        return failure === null ? send(res, 200, 'ready\n') : send(res, 503, `not ready: ${failure}\n`);
      }
      case '/metrics': {
        const body = await this.#registry.metrics();
        return send(res, 200, body, { 'content-type': this.#registry.contentType });
      }
      default:
        return send(res, 404, 'not found\n');
    }
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Creates the admin listener and binds it; resolves once it is listening. */
export async function startAdmin(opts: AdminOptions): Promise<AdminServer> {
  const admin = new AdminServer(opts.registry);
  await admin.listen(opts.host, opts.port);
  log.info({ host: opts.host, port: admin.port }, 'admin listener bound');
  return admin;
}
