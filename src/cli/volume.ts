/**
 * The volume options every admin command shares, and opening a volume for one command. The meta
 * URL comes from --meta, else the config file's meta.url, else the embedded SQLite database in
 * --data-dir (exactly as `ferry serve` resolves it, src/daemon/config.ts); storage from the
 * volume's format with the config's storage overrides and secrets from the environment; cache
 * dirs from --cache-dir, else the config's cache.dirs. Admin volumes register no session and run
 * no background jobs. No command logic lives here.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type FerryConfig } from '../daemon/config.js';
import { BaseMeta } from '../meta/base.js';
import type { Meta } from '../meta/meta.js';
import type { Format } from '../meta/types.js';
import { openEngine } from '../meta/open.js';
import { parseSqliteUrl } from '../meta/sqlite/url.js';
import { logger } from '../observability/logger.js';
import type { StorageSetting } from '../storage/open.js';
import { Errno, isFsError } from '../util/errno.js';
import { openVolume, type Volume } from '../vfs/open.js';
import { CliError, EXIT_UNREACHABLE, EXIT_USAGE } from './exit.js';
import { withMeta } from './io.js';
import { progressFactory, type ProgressFactory } from './progress.js';

/** Parsed common options (commander camelCases them). */
export interface VolumeCliOptions {
  meta?: string;
  dataDir?: string;
  config?: string;
  cacheDir?: string[];
  progress: boolean;
  json: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds --meta, --data-dir and --config: where the volume is (shared with `ferry status`). */
export function withVolumeSource(cmd: Command): Command {
  return cmd
    .option('--meta <url>', 'metadata engine URL (default: meta.url of the config, else sqlite3://<data-dir>/meta.db)')
    .option('--data-dir <dir>', 'data directory of the embedded default volume (default: data-dir of the config, /var/lib/ferry)')
    .option('--config <file>', 'daemon configuration file (default /etc/ferry/ferry.yaml when it exists)');
}

/** Adds the volume source options plus --cache-dir, --json and --no-progress to `cmd`. */
export function withVolumeOptions(cmd: Command): Command {
  return withVolumeSource(cmd)
    .option('--cache-dir <dir>', 'a local block cache directory; repeat for several (default: cache.dirs of the config)', collect)
    .option('--json', 'print the result as JSON on stdout', false)
    .option('--no-progress', 'no progress output on stderr');
}

/** An open admin volume: the served stack without a session, plus what commands print with. */
export interface AdminVolume {
  volume: Volume;
  meta: Meta;
  config: FerryConfig;
  progress: ProgressFactory;
  close(): Promise<void>;
}

export interface AdminOpenOptions {
  /** Commands that change the volume (gc --compact, bench); others open the engine read-only. */
  writable?: boolean;
  /** Use the configured cache dirs (warmup, fsck --repair); otherwise memory only. */
  diskCache?: boolean;
  /** Enable compaction in the Vfs (gc --compact). */
  compaction?: boolean;
}

/** The daemon configuration the options point at; a bad file or flag is a usage error (exit 2). */
export function adminConfig(o: Pick<VolumeCliOptions, 'meta' | 'dataDir' | 'config'>): FerryConfig {
  return loadConfig(o.config, { meta: o.meta, dataDir: o.dataDir });
}

/** Storage fields the config overrides (spec §A values stay unless the operator set these). */
function storageOverrides(c: FerryConfig): Partial<StorageSetting> {
  const s: Partial<StorageSetting> = {};
  if (c.storage.storage !== undefined) s.storage = c.storage.storage;
  if (c.storage.bucket !== undefined) s.bucket = c.storage.bucket;
  if (c.secrets.accessKey !== undefined) s.accessKey = c.secrets.accessKey;
  if (c.secrets.secretKey !== undefined) s.secretKey = c.secrets.secretKey;
  if (c.secrets.sessionToken !== undefined) s.sessionToken = c.secrets.sessionToken;
  return s;
}

/**
 * Exit code 3 when `url` names a SQLite database that does not exist: opening it would create
 * one, and a command that only reads a volume must not leave an empty database behind a typo.
 */
export function requireExistingDatabase(url: string): void {
  if (!url.startsWith('sqlite3://')) return;
  const { path } = parseSqliteUrl(url);
  if (!existsSync(path)) throw new CliError(EXIT_UNREACHABLE, `no metadata database at ${path} (the volume is not formatted)`);
}

/**
 * Runs `fn` on the metadata of the formatted volume at `url` with its setting loaded; exit code 3
 * when there is none (no SQLite database, or no setting in the engine).
 */
export async function withFormattedMeta<T>(url: string, opts: { readOnly?: boolean }, fn: (meta: Meta, setting: Format) => Promise<T>): Promise<T> {
  requireExistingDatabase(url);
  return withMeta(url, opts, async (meta) => {
    const setting = await meta.load().catch((err: unknown) => {
      throw isFsError(err, Errno.ENOENT) ? new CliError(EXIT_UNREACHABLE, `the volume is not formatted: ${err.message}`, { cause: err }) : err;
    });
    return fn(meta, setting);
  });
}

/** Opens the volume for one command; failures to reach or load it are exit code 3 (2 for a bad URL). */
export async function openAdminVolume(o: VolumeCliOptions, opts: AdminOpenOptions = {}): Promise<AdminVolume> {
  const config = adminConfig(o);
  const url = config.meta.url;
  const log = logger.child({ module: 'cli' });
  let meta: Meta;
  try {
    requireExistingDatabase(url);
    meta = new BaseMeta(await openEngine(url), { readOnly: opts.writable !== true, logger: log });
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (isFsError(err, Errno.EINVAL)) throw new CliError(EXIT_USAGE, err.message, { cause: err });
    throw new CliError(EXIT_UNREACHABLE, `cannot open the metadata engine: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let volume: Volume;
  try {
    volume = await openVolume({ meta }, {
      session: false,
      compaction: opts.compaction ?? false,
      releaseIntervalMs: 0,
      storage: storageOverrides(config),
      cacheDirs: opts.diskCache === true ? (o.cacheDir ?? config.cache.dirs).map((d) => resolve(d)) : [],
      // the daemon may be running on these dirs: its staged blocks are read, never uploaded from here
      cache: { cacheSizeBytes: config.cache.cacheSize, freeSpaceRatio: config.cache.freeSpaceRatio, prefetch: 0, uploadStaged: false },
      logger: log,
    });
  } catch (err) {
    await meta.close().catch(() => undefined);
    const what = isFsError(err, Errno.ENOENT) ? 'the volume is not formatted' : 'cannot open the volume';
    throw new CliError(EXIT_UNREACHABLE, `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return {
    volume,
    meta,
    config,
    progress: progressFactory({ silent: !o.progress }),
    async close() {
      try {
        await volume.close();
      } finally {
        await meta.close();
      }
    },
  };
}

/** Opens the volume, runs `fn`, always closes it. */
export async function withAdminVolume<T>(o: VolumeCliOptions, opts: AdminOpenOptions, fn: (v: AdminVolume) => Promise<T>): Promise<T> {
  const v = await openAdminVolume(o, opts);
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}
