/**
 * An in-process Ferry WebDAV server over a real Vfs for the WebDAV tests: a fresh volume per
 * harness (memory or SQLite metadata, file object store in a temp dir), startWebdavServer on a
 * free port on 127.0.0.1, and a raw HTTP client that sends the request-target verbatim (fetch
 * would normalise '..' away) and can set any header, Host included.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { BaseMeta } from '../../src/meta/base.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { openRedisEngine } from '../../src/meta/redis/engine.js';
import { openSqliteEngine } from '../../src/meta/sqlite/engine.js';
import { logger } from '../../src/observability/logger.js';
import { startWebdavServer, type WebdavServer, type WebdavServerOptions } from '../../src/protocols/webdav/server.js';
import { openVolume, type Volume } from '../../src/vfs/open.js';
import { freshRedisUrl } from './hooks.js';
import { tmpDir } from './tmp.js';

export interface DavResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export interface DavHarness {
  volume: Volume;
  server: WebdavServer;
  /** 'http://127.0.0.1:PORT' */
  base: string;
  /** One request; `body` as a Buffer/string (Content-Length) or an array of chunks (chunked). */
  req(method: string, path: string, headers?: Record<string, string>, body?: string | Buffer | (string | Buffer)[]): Promise<DavResponse>;
  close(): Promise<void>;
}

export interface DavHarnessOptions extends Partial<Omit<WebdavServerOptions, 'vfs' | 'listen'>> {
  engine?: 'memory' | 'sqlite' | 'redis';
  /** With engine 'redis': this database instead of a fresh one of the shared test redis-server. */
  redisUrl?: string;
}

export async function startDavHarness(o: DavHarnessOptions = {}): Promise<DavHarness> {
  const dir = tmpDir('ferry-dav-');
  const engine = o.engine === 'sqlite' ? openSqliteEngine(`sqlite3://${dir}/meta.db`)
    : o.engine === 'redis' ? await openRedisEngine(o.redisUrl ?? await freshRedisUrl()) : new MemoryEngine();
  const meta = new BaseMeta(engine, { skipDirMtimeMs: 0 });
  await meta.format({
    Name: 'davtest', UUID: randomUUID(), Storage: 'file', Bucket: `${dir}/objects/`, BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false,
  });
  const volume = await openVolume({ meta }, { session: false, logger: logger.child({ test: 'webdav' }) });
  const server = await startWebdavServer({
    ...(o.auth === undefined && o.anonymous === undefined ? { anonymous: 'read-write' as const } : {}),
    ...o,
    vfs: volume.vfs,
    listen: { host: '127.0.0.1', port: 0 },
  });
  const port = server.address.port;
  const req: DavHarness['req'] = (method, path, headers = {}, body) => new Promise((resolve, reject) => {
    const chunked = Array.isArray(body);
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && !chunked) h['Content-Length'] ??= String(Buffer.byteLength(body));
    const r = request({ host: '127.0.0.1', port, method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (chunked) for (const c of body) r.write(c);
    else if (body !== undefined) r.write(body);
    r.end();
  });
  return {
    volume, server, base: `http://127.0.0.1:${port}`, req,
    async close() {
      await server.close();
      // leak check: every handle a request opened is given back
      const leaked = volume.vfs.openHandles;
      await volume.close();
      await meta.close();
      if (leaked !== 0) throw new Error(`the WebDAV server left ${leaked} vfs handles open`);
    },
  };
}
