/**
 * An in-process Ferry NFS server over a real Vfs for the NFS tests: a fresh volume per harness
 * (memory, SQLite or Redis metadata engine, file object store in a temp dir), startNfsServer on free
 * ports bound to 127.0.0.1, and an Nfs3TestClient with the first export's root handle.
 */
import { randomUUID } from 'node:crypto';
import { BaseMeta } from '../../src/meta/base.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { openSqliteEngine } from '../../src/meta/sqlite/engine.js';
import { openRedisEngine } from '../../src/meta/redis/engine.js';
import type { Format } from '../../src/meta/types.js';
import type { ExportConfig } from '../../src/protocols/nfs/exports.js';
import { startNfsServer, type NfsServer, type NfsServerOptions } from '../../src/protocols/nfs/server.js';
import type { OpaqueAuth } from '../../src/protocols/nfs/rpc/message.js';
import { createObjectStore } from '../../src/storage/open.js';
import { openVolume, storageSetting, type Volume } from '../../src/vfs/open.js';
import { ROOT_CREDENTIALS, ROOT_INODE } from '../../src/vfs/types.js';
import { logger } from '../../src/observability/logger.js';
import { Nfs3TestClient } from './nfs3-client.js';
import { sysCred } from './rpc-client.js';
import { freshRedisUrl } from './hooks.js';
import { FaultyStore } from './faulty-store.js';
import { tmpDir } from './tmp.js';

export interface Harness {
  volume: Volume;
  /** The volume's temp dir: metadata (SQLite) and `objects/` (the file store's bucket). */
  dir: string;
  server: NfsServer;
  client: Nfs3TestClient;
  /** Root handle of the first export. */
  root: Buffer;
  /** With `faulty`: the volume's store, to fail its next calls. */
  faults?: FaultyStore;
  /** Another client connection with its own credentials. */
  connect(cred?: OpaqueAuth, opts?: { localPort?: number }): Promise<Nfs3TestClient>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<NfsServerOptions, 'vfs' | 'volumeUuid'>> {
  exports?: ExportConfig[];
  /** Directories to create (as root, mode 0777) before the server starts, e.g. export roots. */
  dirs?: string[];
  cred?: OpaqueAuth;
  /** Volume setting fields over the defaults (4 MiB blocks, no trash, no limits). */
  setting?: Partial<Format>;
  /** Metadata engine of the volume; default memory ('redis': a fresh db of the shared test redis-server). */
  engine?: 'memory' | 'sqlite' | 'redis';
  /** With engine 'redis': this database instead of a fresh one of the shared test redis-server. */
  redisUrl?: string;
  /** With engine 'redis' and redisUrl: serve the volume another harness formatted there (a second appliance). */
  join?: boolean;
  /** The volume's store behind a FaultyStore (`Harness.faults`) that can fail its next calls. */
  faulty?: boolean;
  /** Cache dirs on the file store's file system, as `ferry serve` sets up the embedded volume: blocks read in place, no block read-ahead. */
  inPlace?: boolean;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const dir = tmpDir('ferry-nfs-');
  const engine = o.engine === 'sqlite' ? openSqliteEngine(`sqlite3://${dir}/meta.db`)
    : o.engine === 'redis' ? await openRedisEngine(o.redisUrl ?? await freshRedisUrl()) : new MemoryEngine();
  const meta = new BaseMeta(engine, { skipDirMtimeMs: 0 });
  if (o.join !== true) await meta.format({
    Name: 'nfstest', UUID: randomUUID(), Storage: 'file', Bucket: `${dir}/objects/`, BlockSize: 4096, Compression: 'none', TrashDays: 0, EnableACL: false, ...o.setting,
  });
  const setting = await meta.load();
  const faults = o.faulty === true ? new FaultyStore(createObjectStore(storageSetting(setting))) : undefined;
  const volume = await openVolume({ meta }, {
    session: false, logger: logger.child({ test: 'nfs3' }), ...(o.inPlace === true ? { cacheDirs: [`${dir}/cache`] } : {}), ...(faults === undefined ? {} : { store: faults }),
  });
  for (const d of o.dirs ?? []) {
    let ino = ROOT_INODE;
    for (const part of d.split('/').filter((x) => x !== '')) {
      try {
        ino = (await volume.vfs.lookup(ROOT_CREDENTIALS, ino, Buffer.from(part))).ino;
      } catch {
        ino = (await volume.vfs.mkdir(ROOT_CREDENTIALS, ino, Buffer.from(part), 0o777, 0)).ino;
      }
    }
  }
  const exports = o.exports ?? [{ path: '/' }];
  const server = await startNfsServer({
    ...o,
    vfs: volume.vfs,
    volumeUuid: volume.setting.UUID,
    exports,
    nfsPort: 0,
    mountPort: 0,
    host: '127.0.0.1',
    portmap: o.portmap ?? 'none',
  });
  const cred = o.cred ?? sysCred(1000, 1000);
  const client = await Nfs3TestClient.connect(server.ports.nfs, cred);
  const first = exports[0];
  const mnt = await client.mount(server.ports.mount, first?.name ?? first?.path ?? '/');
  const clients: Nfs3TestClient[] = [client];
  return {
    volume,
    dir,
    ...(faults === undefined ? {} : { faults }),
    server,
    client,
    root: mnt.fh ?? Buffer.alloc(0),
    async connect(c = cred, opts = {}) {
      const extra = await Nfs3TestClient.connect(server.ports.nfs, c, opts);
      clients.push(extra);
      return extra;
    },
    async close() {
      for (const c of clients) await c.close();
      await server.close();
      // leak check: the server must give back every handle it opened
      const leaked = volume.vfs.openHandles;
      await volume.close();
      await meta.close();
      if (leaked !== 0) throw new Error(`the NFS server left ${leaked} vfs handles open`);
    },
  };
}
