/**
 * openVolume: assembles a served volume from its metadata URL (or a Meta): loads the setting
 * (spec §A), builds the ObjectStore from it (createObjectStore: Storage, Bucket, keys, Compression,
 * Shards, `<Name>/` prefix), the block cache, the ChunkStore and the Vfs, and optionally registers
 * a session. Block size is Format.BlockSize KiB. A file store on the cache disk's file system gets
 * no disk cache in front of it (the cache dirs then only stage write-back blocks); without
 * compression no memory tier and no read-ahead either (by default): reads go from the block files
 * straight into the protocols' buffers and the kernel reads ahead; with compression a read-ahead
 * window of 8 blocks instead of 32. It refuses volumes it cannot serve correctly
 * (data encryption, spec §D.4) instead of writing data other clients could not read.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { TieredBlockCache, type BlockCacheOptions } from '../cache/block-cache.js';
import { BaseMeta, type BaseMetaOptions } from '../meta/base.js';
import type { Meta } from '../meta/meta.js';
import { openEngine } from '../meta/open.js';
import type { Format, SessionInfo } from '../meta/types.js';
import { logger as rootLogger } from '../observability/logger.js';
import type { ObjectStore } from '../storage/object-store.js';
import { createObjectStore, type StorageSetting } from '../storage/open.js';
import { Errno, FsError } from '../util/errno.js';
import { CachedChunkStore } from './chunk-store.js';
import { Vfs, type CloseOptions, type VfsOptions } from './vfs.js';

export interface OpenVolumeOptions extends VfsOptions {
  /** Acknowledge writes once staged on the local cache disk (needs `cacheDirs`). Default false. */
  writeBack?: boolean;
  /** Local cache dirs (disk tier and write-back staging); none = memory cache only. */
  cacheDirs?: string[];
  /** Further block cache tuning. */
  cache?: Omit<BlockCacheOptions, 'store' | 'volumeUuid' | 'cacheDirs' | 'logger' | 'registry'>;
  /** Storage fields taking precedence over the setting (secrets given out of band, S3 tuning, retries). */
  storage?: Partial<StorageSetting>;
  /** Use this store (keys relative to `<Name>/`) instead of building one from the setting; closed with the volume. */
  store?: ObjectStore;
  /** BaseMeta options when opening from a URL. */
  meta?: BaseMetaOptions;
  /** Register a session (spec §B.7) with this info; false for none (read-only tools). Default: a session. */
  session?: Partial<SessionInfo> | false;
  metrics?: Registry;
}

/** An open volume; close() shuts everything down in order. */
export interface Volume {
  /** The loaded volume setting. */
  setting: Format;
  /** The metadata API (opened here for a URL, or the one given). */
  meta: Meta;
  /** The volume's object store (keys relative to `<Name>/`). */
  store: ObjectStore;
  /** The block cache in front of the store. */
  cache: TieredBlockCache;
  /** What protocols call. */
  vfs: Vfs;
  /** Closes the Vfs (flushing), then the cache, the store, the session and meta (when opened here). */
  close(opts?: CloseOptions): Promise<void>;
}

/** Read-ahead window (blocks) of one reader of a compressed file store on the cache disk's file system. */
const NEAR_READ_AHEAD_BLOCKS = 8;

export async function openVolume(source: string | { meta: Meta }, opts: OpenVolumeOptions = {}): Promise<Volume> {
  const log = opts.logger ?? rootLogger;
  let meta: Meta;
  const ownsMeta = typeof source === 'string';
  if (typeof source === 'string') {
    meta = new BaseMeta(await openEngine(source), { ...opts.meta, logger: log });
  } else {
    meta = source.meta;
  }
  const closers: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => log.warn({ err }, 'close during volume shutdown failed'));
  };
  if (ownsMeta) closers.push(() => meta.close());
  try {
    const setting = await meta.load();
    if ((setting.EncryptKey ?? '') !== '') throw new FsError(Errno.ENOTSUP, `volume ${setting.Name} encrypts its data (spec §D.4): not supported`);
    const blockSizeBytes = setting.BlockSize * 1024;
    if (!Number.isSafeInteger(blockSizeBytes) || blockSizeBytes < 64 * 1024 || blockSizeBytes > 16 * 1024 * 1024) {
      throw new FsError(Errno.EINVAL, `block size ${setting.BlockSize} KiB is outside 64..16384`);
    }
    const storage = { ...storageSetting(setting), ...opts.storage };
    const store = opts.store ?? createObjectStore({ ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }), ...storage });
    closers.push(() => store.close());
    // A file store on the cache dirs' file system is read directly: no disk cache (unless the
    // caller decides). When blocks need no decompression, no memory tier and no read-ahead either:
    // the kernel's page cache holds the same bytes and reads the block files ahead, and reads go
    // from them straight into the protocols' buffers (no block-sized buffer per block, no copy).
    // Compressed blocks keep a memory tier and a short read-ahead window (a local disk answers in a
    // few ms).
    const near = opts.cache?.diskCache === undefined && opts.store === undefined && await storeIsNear(storage, opts.cacheDirs ?? []);
    const raw = near && (storage.compression ?? 'none').toLowerCase() === 'none';
    if (near) log.info({ cacheDirs: opts.cacheDirs }, 'file store on the same file system as the cache dirs: blocks are read from it directly, not copied into the disk cache');
    const cache = await TieredBlockCache.open({
      ...(raw ? { memoryCacheBytes: 0 } : {}),
      ...opts.cache,
      diskCache: opts.cache?.diskCache ?? !near,
      store,
      volumeUuid: setting.UUID,
      ...(opts.cacheDirs === undefined ? {} : { cacheDirs: opts.cacheDirs }),
      ...(opts.metrics === undefined ? {} : { registry: opts.metrics }),
      logger: log.child({ module: 'cache' }),
    });
    closers.push(() => cache.close());
    if (opts.session !== false && ownsMeta) {
      await meta.newSession({ MountPoint: 'ferry', ...opts.session });
      closers.push(() => meta.closeSession());
    }
    const chunks = new CachedChunkStore(cache, { blockSizeBytes, hashPrefix: setting.HashPrefix ?? false, writeBack: opts.writeBack ?? false });
    const nearWindow = raw && opts.cache?.memoryCacheBytes === undefined ? 0 : NEAR_READ_AHEAD_BLOCKS * blockSizeBytes;
    const vfs = new Vfs(meta, chunks, near && opts.maxReadAheadBytes === undefined ? { ...opts, maxReadAheadBytes: nearWindow } : opts);
    return {
      setting, meta, store, cache, vfs,
      async close(closeOpts?: CloseOptions): Promise<void> {
        try {
          await vfs.close(closeOpts);
        } finally {
          await unwind();
        }
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/**
 * Whether `s` is a file store whose directory is on the same file system as every cache dir: a
 * disk cache there would be a second copy of each object on the same disk, costing more to write
 * than the object costs to read. A sharded bucket, no cache dirs or a directory that cannot be
 * examined count as not near (the cache is kept).
 */
async function storeIsNear(s: StorageSetting, cacheDirs: string[]): Promise<boolean> {
  if (s.storage.toLowerCase() !== 'file' || s.bucket.includes('%d') || cacheDirs.length === 0) return false;
  try {
    const storeDev = await deviceOf(s.bucket);
    for (const dir of cacheDirs) if ((await deviceOf(dir)) !== storeDev) return false;
    return true;
  } catch {
    return false;
  }
}

/** The device of `path`, or of its nearest existing ancestor (dirs are created on first use). */
async function deviceOf(path: string): Promise<number> {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      return (await stat(p)).dev;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || p === dirname(p)) throw err;
    }
  }
}

/** The storage part of a setting, with secrets decrypted (spec §A.1). */
export function storageSetting(f: Format): StorageSetting {
  const s: StorageSetting = { storage: f.Storage, bucket: f.Bucket, name: f.Name };
  if (f.AccessKey !== undefined && f.AccessKey !== '') s.accessKey = f.AccessKey;
  const secret = revealSecret(f, f.SecretKey);
  if (secret !== undefined) s.secretKey = secret;
  const token = revealSecret(f, f.SessionToken);
  if (token !== undefined) s.sessionToken = token;
  if (f.Compression !== undefined) s.compression = f.Compression;
  if (f.Shards !== undefined) s.shards = f.Shards;
  return s;
}

/**
 * A secret of the setting in clear text: as stored when KeyEncrypted is false; else
 * base64(nonce ‖ AES-GCM(key = MD5(UUID)) ciphertext ‖ tag) (spec §A.1). `"removed"` (dumps) and
 * empty values give undefined: the caller must supply the secret out of band.
 */
export function revealSecret(f: Format, value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === 'removed') return undefined;
  if (f.KeyEncrypted !== true) return value;
  if ((f.EncryptAlgo ?? '').toLowerCase() === 'sm4gcm') throw new FsError(Errno.ENOTSUP, 'secrets encrypted with SM4-GCM are not supported');
  const raw = Buffer.from(value, 'base64');
  if (raw.length < 12 + 16) throw new FsError(Errno.EINVAL, 'encrypted secret too short');
  const key = createHash('md5').update(f.UUID).digest();
  const decipher = createDecipheriv('aes-128-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new FsError(Errno.EINVAL, 'cannot decrypt a secret of the volume setting (wrong UUID?)', { cause: err });
  }
}
