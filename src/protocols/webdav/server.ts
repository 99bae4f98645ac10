/**
 * Ferry's WebDAV server (RFC 4918 class 1 and 2) on node:http / node:https over the Vfs: request
 * routing through the method table, Basic authentication (auth.ts), per-user roots and read-only
 * access, body modes, one log line per request, and the single place where any failure becomes
 * a response (status.ts). A handler error never escapes: it is a 4xx/5xx, or, once the response
 * has started, a reset connection. No file-system logic lives here.
 */
import { BufferPool } from '../../util/buffer-pool.js';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { logger as rootLogger, type Logger } from '../../observability/logger.js';
import { secondsSince, type OpObserver } from '../../observability/ops.js';
import type { Vfs } from '../../vfs/vfs.js';
import { type Credentials, ROOT_CREDENTIALS } from '../../vfs/types.js';
import { BasicAuthenticator, type DavAccess, type DavUser, type DavUsersConfig } from './auth.js';
import type { DavMethod, DavRequest, DavServerState } from './context.js';
import { decodeRequestPath } from './href.js';
import { adoptLegacyLocks, EngineLockStore, LockManager, type LockStore } from './locks.js';
import { METHODS } from './methods/index.js';
import { httpError, renderErrorBody, toHttpError } from './status.js';
import { readBody } from './xml/parse.js';

/** Idle GET buffers (4 MiB each) kept for reuse: a couple per concurrent download. */
const GET_BUFFERS_KEPT = 8;

/** Options of startWebdavServer. */
/** How long an idle keep-alive connection stays open. */
const KEEP_ALIVE_MS = 60_000;

export interface WebdavServerOptions {
  readonly vfs: Vfs;
  /** Address to bind; port 0 picks a free one (see `address`). */
  readonly listen: { readonly host: string; readonly port: number };
  /** HTTPS with this certificate and key (PEM); plain HTTP when absent. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Basic authentication against an htpasswd file. */
  readonly auth?: DavUsersConfig;
  /** Accept Basic credentials over plain HTTP (default false: auth needs tls). */
  readonly allowBasicOverHttp?: boolean;
  /** Access of requests without credentials; undefined = none (401 when auth is set). Required without auth. */
  readonly anonymous?: DavAccess;
  /** File-system identity of requests (default root); a user's own `credentials` take precedence. */
  readonly credentials?: Credentials;
  /** Largest buffered XML body (PROPFIND, PROPPATCH, LOCK), bytes (default 1 MiB). */
  readonly maxXmlBodyBytes?: number;
  /** Answer PROPFIND Depth: infinity instead of 403 (default false). */
  readonly allowPropfindInfinity?: boolean;
  /** Where locks live (default: xattrs of the root inode, i.e. in the metadata engine). */
  readonly lockStore?: LockStore;
  /** Lock timeouts in seconds (default 3600 / 86400). */
  readonly lockTimeout?: { readonly defaultSec: number; readonly maxSec: number };
  readonly logger?: Logger;
  /** Told about every request (method, or OTHER; latency; the status when it is 4xx/5xx), e.g. for metrics. */
  readonly observer?: OpObserver;
}

/** A running server. */
export interface WebdavServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: { readonly host: string; readonly port: number };
  /**
   * Applies new users options and htpasswd file (SIGHUP reload); the old ones stay in force when
   * it throws. A server started without auth cannot switch to auth this way (restart instead).
   */
  reloadUsers(auth: DavUsersConfig): Promise<void>;
  /**
   * Serves this certificate and key (PEM) to connections accepted from now on (SIGHUP reload);
   * open connections and the listener are kept. Throws, keeping the old pair, when the pair is
   * invalid or the server was started without TLS.
   */
  reloadTls(tls: { readonly cert: string | Buffer; readonly key: string | Buffer }): void;
  /** Stops accepting, closes idle and then all connections. */
  close(): Promise<void>;
}

const hasBody = (req: IncomingMessage): boolean => {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len.trim() !== '0');
};

/** Starts the server; rejects when the configuration is unsafe or the address is taken. */
export async function startWebdavServer(opts: WebdavServerOptions): Promise<WebdavServer> {
  const log = (opts.logger ?? rootLogger).child({ module: 'webdav' });
  let authenticator: BasicAuthenticator | undefined;
  if (opts.auth !== undefined) {
    if (opts.tls === undefined && opts.allowBasicOverHttp !== true) {
      throw new Error('webdav: Basic authentication over plain HTTP is refused (configure tls or allowBasicOverHttp)');
    }
    authenticator = new BasicAuthenticator(opts.auth);
    const skipped = await authenticator.reload();
    if (skipped.length > 0) log.warn({ lines: skipped }, 'htpasswd lines skipped (only bcrypt hashes are accepted)');
  } else if (opts.anonymous === undefined) {
    throw new Error('webdav: neither authentication nor anonymous access is configured');
  }
  const locks = new LockManager(opts.lockStore ?? new EngineLockStore(opts.vfs));
  if (opts.lockStore === undefined) {
    try {
      const moved = await adoptLegacyLocks(opts.vfs, locks);
      if (moved > 0) log.info({ locks: moved }, 'webdav locks moved from root xattrs into the lock table');
    } catch (err) {
      log.warn({ err }, 'webdav locks kept in root xattrs by an earlier version could not be moved into the lock table');
    }
  }
  const state: DavServerState = {
    vfs: opts.vfs,
    locks,
    allowPropfindInfinity: opts.allowPropfindInfinity ?? false,
    lockTimeout: opts.lockTimeout ?? { defaultSec: 3600, maxSec: 86400 },
    fileMode: 0o644,
    dirMode: 0o755,
    readBuffers: new BufferPool(4 << 20, GET_BUFFERS_KEPT),
  };
  const cred = opts.credentials ?? ROOT_CREDENTIALS;
  const maxXml = opts.maxXmlBodyBytes ?? 1 << 20;
  let nextReq = 0;

  const authenticate = async (req: IncomingMessage): Promise<{ user: DavUser | null; access: DavAccess }> => {
    const header = req.headers.authorization;
    if (authenticator === undefined || (header === undefined && opts.anonymous !== undefined)) {
      return { user: null, access: opts.anonymous ?? 'read-only' };
    }
    const user = await authenticator.authenticate(header);
    return { user, access: user.access };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    // the fields of every log line about this request: the child logger's bindings, and the access line's first fields
    const requestFields = { reqId: ++nextReq, method: req.method };
    // the child logger is made when something logs (a pino child per request costs more than the request's own work)
    let reqLog: Logger | undefined;
    const requestLog = (): Logger => (reqLog ??= log.child(requestFields));
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(new Error('client went away')); });
    let userName: string | undefined;
    try {
      const method: DavMethod | undefined = METHODS.get(req.method ?? '');
      if (method === undefined) {
        throw httpError('NOT_IMPLEMENTED', req.method, { headers: { Allow: [...METHODS.keys()].join(', ') } });
      }
      const { user, access } = await authenticate(req);
      userName = user?.name;
      // A fragment is never part of a request-target (RFC 7230 §5.3); acting on the path before it would be unsafe.
      if ((req.url ?? '').includes('#')) throw httpError('BAD_PATH', 'fragment in the request-target');
      const path = decodeRequestPath(req.url ?? '/');
      if (method.modifies && access === 'read-only') throw httpError('READ_ONLY');
      const rootSegments = (user?.root ?? '/').split('/').filter((s) => s !== '').map((s) => Buffer.from(s, 'utf8'));
      let body: Buffer = Buffer.alloc(0);
      if (method.body === 'buffered' && hasBody(req)) body = await readBody(req, maxXml, req.headers['content-length']);
      const r: DavRequest = {
        req, res, method: method.name, path, fsPath: [...rootSegments, ...path.segments], rootSegments,
        user, cred: user?.credentials ?? cred, body, signal: abort.signal, server: state,
        get log() { return requestLog(); },
      };
      await method.handle(r);
    } catch (err) {
      sendError(req, res, err, log, requestLog);
    } finally {
      const seconds = secondsSince(started);
      // the request's fields on the module's logger: the same line as through requestLog(), without a child per request
      if (log.isLevelEnabled('info')) log.info({ ...requestFields, url: req.url, status: res.statusCode, user: userName, ms: seconds * 1e3 }, 'request');
      opts.observer?.record(METHODS.has(req.method ?? '') ? req.method ?? '' : 'OTHER', seconds, res.statusCode >= 400 ? String(res.statusCode) : undefined);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res);
  };
  const https: HttpsServer | undefined = opts.tls === undefined ? undefined : createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest);
  const server: Server = https ?? createHttpServer(onRequest);
  // Node closes idle keep-alive sockets after 5 s; a request a client sends as that timer fires (or
  // fires late, after a busy event loop) meets a reset, and clients such as rclone do not retry a
  // PUT. Idle sockets are cheap: keep them a minute, as nginx-style servers do.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('clientError', (err, socket) => {
    log.debug({ err }, 'malformed HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  log.info({ host: addr.address, port: addr.port, tls: opts.tls !== undefined }, 'WebDAV server listening');
  return {
    address: { host: addr.address, port: addr.port },
    async reloadUsers(auth: DavUsersConfig) {
      if (authenticator === undefined) throw new Error('webdav: authentication was off at start; restart to turn it on');
      const skipped = await authenticator.reconfigure(auth);
      if (skipped.length > 0) log.warn({ lines: skipped }, 'htpasswd lines skipped (only bcrypt hashes are accepted)');
    },
    reloadTls(tls) {
      if (https === undefined) throw new Error('webdav: TLS was off at start; restart to turn it on');
      https.setSecureContext({ cert: tls.cert, key: tls.key });
      log.info('TLS certificate reloaded');
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    }),
  };
}

/**
 * Renders a failure; a response already under way is cut off instead (its length is a lie now).
 * `log` makes the request's logger; `base` (its parent) answers whether debug lines are wanted.
 */
function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, base: Logger, log: () => Logger): void {
  const e = toHttpError(err);
  if (e.status >= 500) log().error({ err }, 'request failed');
  else if (base.isLevelEnabled('debug')) log().debug({ err: e.message, code: e.code }, 'request refused');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = e.condition !== undefined ? renderErrorBody(e.condition) : `${e.message}\n`;
  const headers: Record<string, string> = {
    ...e.headers,
    'Content-Type': e.condition !== undefined ? 'application/xml; charset=utf-8' : 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  };
  if (!req.complete) headers['Connection'] = 'close';
  res.writeHead(e.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
