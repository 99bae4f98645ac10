/**
 * The vfs test matrix (STYLE.md §5): every row is a real stack opened through openVolume over a
 * formatted BaseMeta, a real ObjectStore (memory or file) and the real block cache, in write-through
 * or write-back mode; engines memory, SQLite and Redis (the run's redis-server), stores memory,
 * file and s3 (the run's s3rver).
 */
import { BaseMeta } from '../../src/meta/base.js';
import type { MetaEngine } from '../../src/meta/engine.js';
import { join } from 'node:path';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { openSqliteEngine, SqliteEngine } from '../../src/meta/sqlite/engine.js';
import type { Format } from '../../src/meta/types.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { createObjectStore } from '../../src/storage/open.js';
import { openVolume, storageSetting, type OpenVolumeOptions, type Volume } from '../../src/vfs/open.js';
import type { Vfs } from '../../src/vfs/vfs.js';
import { tmpDir } from '../helpers/tmp.js';
import { freshRedisUrl, sharedS3rver } from '../helpers/hooks.js';
import { freshBucket } from '../helpers/s3-buckets.js';
import { openRedisEngine, RedisEngine } from '../../src/meta/redis/engine.js';

export const BLOCK = 64 * 1024;

export interface RigOptions extends Partial<OpenVolumeOptions> {
  /** Setting fields over the defaults (64 KiB blocks, no trash). */
  setting?: Partial<Format>;
  /** Puts a decorator (fault injection, call counting) around the store built from the setting. */
  wrapStore?: (store: ObjectStore) => ObjectStore;
}

export interface Rig {
  name: string;
  vfs: Vfs;
  meta: BaseMeta;
  /** The volume's store as vfs sees it (keys relative to `<Name>/`). */
  store: ObjectStore;
  volume: Volume;
  writeBack: boolean;
  /** Block objects in the store (after uploading staged blocks): key -> size. */
  objects(): Promise<Map<string, number>>;
  /** Waits for background release of deleted data and compactions. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Row {
  name: string;
  writeBack: boolean;
  /**
   * The engine implements the compaction swap (MetaEngine.doCompactChunk). Declared exception:
   * rows without it open with compaction off and do not run the compaction tests.
   */
  compacts: boolean;
  make(opts?: RigOptions): Promise<Rig>;
}

type StoreKind = 'mem' | 'file' | 's3';

function row(engine: string, makeEngine: () => MetaEngine | Promise<MetaEngine>, storeKind: StoreKind, writeBack: boolean, compacts: boolean): Row {
  const name = `${engine} × ${storeKind} store × ${writeBack ? 'write-back' : 'write-through'}`;
  return {
    name,
    writeBack,
    compacts,
    async make(opts: RigOptions = {}): Promise<Rig> {
      const meta = new BaseMeta(await makeEngine());
      const setting = await meta.format({
        Name: 'vfstest', UUID: '', ...await storeSetting(storeKind),
        BlockSize: BLOCK / 1024, Compression: 'none', TrashDays: 0, EnableACL: false, ...opts.setting,
      });
      const { setting: _setting, wrapStore, ...volumeOpts } = opts;
      if (wrapStore !== undefined) volumeOpts.store = wrapStore(createObjectStore(storageSetting(setting)));
      const volume = await openVolume({ meta }, {
        releaseIntervalMs: 0,
        compaction: compacts,
        writeBack,
        ...(writeBack ? { cacheDirs: [tmpDir('ferry-vfs-cache-')] } : {}),
        cache: { uploadRetryBaseDelayMs: 1 },
        ...volumeOpts,
      });
      const rig: Rig = {
        name, meta, volume, writeBack, vfs: volume.vfs, store: volume.store,
        async objects() {
          await volume.cache.drain();
          const out = new Map<string, number>();
          for await (const o of volume.store.list('chunks/')) out.set(o.key, o.size);
          return out;
        },
        async settle() {
          await volume.vfs.settle();
          await meta.flushBackground();
          await volume.cache.drain();
        },
        async close() {
          await volume.close();
          await meta.close();
        },
      };
      return rig;
    },
  };
}

/** The rows this branch can run: the memory engine over memory and file stores, both cache modes. */
export const ROWS: Row[] = [
  row('memory meta', () => new MemoryEngine(), 'mem', false, canCompact(MemoryEngine)),
  row('memory meta', () => new MemoryEngine(), 'file', false, canCompact(MemoryEngine)),
  row('memory meta', () => new MemoryEngine(), 'mem', true, canCompact(MemoryEngine)),
  row('memory meta', () => new MemoryEngine(), 'file', true, canCompact(MemoryEngine)),
  row('sqlite meta', () => openSqliteEngine(`sqlite3://${join(tmpDir('ferry-vfs-sqlite-'), 'meta.db')}`), 'file', true, canCompact(SqliteEngine)),
  row('sqlite meta', () => openSqliteEngine(`sqlite3://${join(tmpDir('ferry-vfs-sqlite-'), 'meta.db')}`), 's3', false, canCompact(SqliteEngine)),
  row('redis meta', redisEngine, 's3', false, canCompact(RedisEngine)),
  row('redis meta', redisEngine, 's3', true, canCompact(RedisEngine)),
  row('redis meta', redisEngine, 'file', false, canCompact(RedisEngine)),
];

/** Storage fields of the setting for a store kind; s3 is a fresh bucket on the run's s3rver. */
async function storeSetting(kind: StoreKind): Promise<Pick<Format, 'Storage' | 'Bucket' | 'AccessKey' | 'SecretKey'>> {
  if (kind === 'file') return { Storage: 'file', Bucket: `${tmpDir('ferry-vfs-store-')}/` };
  if (kind === 'mem') return { Storage: 'mem', Bucket: 'vfs' };
  const srv = await sharedS3rver();
  return { Storage: 'minio', Bucket: `${srv.endpoint}/${await freshBucket()}`, AccessKey: srv.accessKey, SecretKey: srv.secretKey };
}

/** A Redis engine on a fresh, flushed logical db of the run's redis-server. */
async function redisEngine(): Promise<MetaEngine> {
  return openRedisEngine(await freshRedisUrl());
}

/** Whether an engine class has the optional compaction swap. */
function canCompact(engine: { prototype: object }): boolean {
  return 'doCompactChunk' in engine.prototype;
}

/** Deterministic bytes: `len` bytes of pattern `seed` (different seeds differ at every offset mod 251). */
export function bytes(len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed * 31 + (i >> 8)) % 251;
  return b;
}
