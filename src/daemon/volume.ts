/**
 * Opens the volume `ferry serve` serves, as the configuration says (docs/configuration.md): the
 * meta URL (the embedded SQLite volume in data-dir is formatted on first start), the `storage.*`
 * overrides and environment secrets, the `cache.*` keys (dirs, size, free-space ratio, write-back,
 * buffer size), and the Prometheus registry every layer reports to. It starts no listener.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { BufferBudget } from '../cache/buffer-budget.js';
import { BaseMeta } from '../meta/base.js';
import type { Meta } from '../meta/meta.js';
import { openEngine } from '../meta/open.js';
import type { Format } from '../meta/types.js';
import { SqliteEngine } from '../meta/sqlite/engine.js';
import { logger as rootLogger } from '../observability/logger.js';
import { checkpointMetrics, type Registry } from '../observability/metrics.js';
import type { StorageSetting } from '../storage/open.js';
import { Errno, isFsError } from '../util/errno.js';
import { openVolume, type OpenVolumeOptions, type Volume } from '../vfs/open.js';
import type { Vfs } from '../vfs/vfs.js';
import type { FerryConfig } from './config.js';
import { countDataBytes, instrumentEngine } from './metrics.js';

const DEFAULT_VOLUME_NAME = 'ferry';

/** The served volume: `vfs` is what the protocols get (byte counters around volume.vfs). */
export interface ServedVolume {
  meta: Meta;
  volume: Volume;
  vfs: Vfs;
}

/** True when the config serves the embedded default volume (no meta.url of its own). */
export function isEmbedded(config: FerryConfig): boolean {
  return config.meta.url === `sqlite3://${config.dataDir}/meta.db`;
}

/** The `storage.*` keys and environment secrets, as overrides of the format's storage fields. */
export function storageOverridesOf(config: FerryConfig): Partial<StorageSetting> {
  const s = config.storage;
  const secrets = config.secrets;
  return {
    ...(s.storage === undefined ? {} : { storage: s.storage }),
    ...(s.bucket === undefined ? {} : { bucket: s.bucket }),
    ...(secrets.accessKey === undefined ? {} : { accessKey: secrets.accessKey }),
    ...(secrets.secretKey === undefined ? {} : { secretKey: secrets.secretKey }),
    ...(secrets.sessionToken === undefined ? {} : { sessionToken: secrets.sessionToken }),
  };
}

/** openVolume options from the `cache.*` and `storage.*` keys; metrics go to `registry`. */
export function volumeOptionsOf(config: FerryConfig, registry: Registry): OpenVolumeOptions {
  const c = config.cache;
  return {
    cacheDirs: [...c.dirs],
    writeBack: c.writeBack,
    cache: { cacheSizeBytes: c.cacheSize, freeSpaceRatio: c.freeSpaceRatio },
    budget: new BufferBudget(c.bufferSize, registry),
    storage: storageOverridesOf(config),
    metrics: registry,
    logger: rootLogger,
  };
}

/** The embedded default volume's setting: local objects under `<dataDir>/objects/`. */
function defaultSetting(dataDir: string): Format {
  return {
    Name: DEFAULT_VOLUME_NAME,
    UUID: randomUUID(),
    Storage: 'file',
    Bucket: `${resolve(dataDir, 'objects')}/`,
    BlockSize: 4096,
    Compression: 'none',
    TrashDays: 0,
    MetaVersion: 1,
    EnableACL: false,
  };
}

/**
 * Opens meta (formatting the embedded volume when it is new), the volume and a session. Parent
 * directory times are updated on every change (skipDirMtimeMs 0): NFS clients see directory
 * changes only through them.
 */
export async function openServedVolume(config: FerryConfig, registry: Registry): Promise<ServedVolume> {
  const embedded = isEmbedded(config);
  if (embedded) mkdirSync(resolve(config.dataDir, 'objects'), { recursive: true });
  const opened = await openEngine(config.meta.url, { backgroundCheckpoints: true });
  const checkpoints = opened instanceof SqliteEngine ? opened.checkpointStats : null;
  if (checkpoints !== null) checkpointMetrics(() => checkpoints, registry);
  const engine = instrumentEngine(opened, registry);
  const meta = new BaseMeta(engine, { skipDirMtimeMs: 0, logger: rootLogger });
  try {
    try {
      await meta.load();
    } catch (err) {
      if (!embedded || !isFsError(err, Errno.ENOENT)) throw err;
      rootLogger.info({ dataDir: config.dataDir }, 'formatting the embedded default volume');
      await meta.format(defaultSetting(config.dataDir));
    }
    const volume = await openVolume({ meta }, volumeOptionsOf(config, registry));
    try {
      await meta.newSession({ MountPoint: 'ferry serve' });
    } catch (err) {
      await volume.close().catch(() => undefined);
      throw err;
    }
    return { meta, volume, vfs: countDataBytes(volume.vfs, registry) };
  } catch (err) {
    await meta.close().catch(() => undefined);
    throw err;
  }
}
