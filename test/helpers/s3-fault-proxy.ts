/**
 * A protocol-speaking fake in front of s3rver (STYLE.md §9): an HTTP server on 127.0.0.1 that
 * answers the next requests with scripted S3 errors, resets or silence, and proxies everything
 * else unchanged (Host header included, so signatures still match). It records every request and
 * counts TCP connections, so tests can check retries, headers and keep-alive.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';

export type Fault =
  | { status: number; code: string }
  | 'reset'
  | 'hang';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FaultProxy {
  endpoint: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Answer the next `times` requests with `fault` (queued after earlier faults). */
  fail(times: number, fault: Fault): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number): Promise<FaultProxy> {
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const fault = faults.shift();
    if (fault === 'hang') return;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault !== undefined) {
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by the test</Message><RequestId>fake</RequestId></Error>`;
      res.writeHead(fault.status, { 'Content-Type': 'application/xml', 'Content-Length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      pipeline(upRes, res).catch(() => res.destroy());
    });
    up.on('error', () => res.destroy());
    pipeline(req, up).catch(() => up.destroy());
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fault proxy has no port');

  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    requests,
    connections: () => connections,
    fail(times, fault) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
