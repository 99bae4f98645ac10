/**
 * `ferry serve`: opens the volume (a metadata URL, or the embedded default volume in --data-dir:
 * SQLite metadata plus a local object directory, formatted on first start) and serves it over
 * NFSv3 (+MOUNT) and WebDAV until SIGINT/SIGTERM, then closes in order: listeners, vfs (flushing),
 * volume. Options come from the command line over an optional YAML config file.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BaseMeta } from '../../meta/base.js';
import type { Meta } from '../../meta/meta.js';
import { openEngine } from '../../meta/open.js';
import type { Format } from '../../meta/types.js';
import { logger as rootLogger } from '../../observability/logger.js';
import { exportConfigSchema, parseExports, type ExportConfig } from '../../protocols/nfs/exports.js';
import { DEFAULT_MOUNT_PORT, DEFAULT_NFS_PORT, startNfsServer, type NfsServer } from '../../protocols/nfs/server.js';
import type { DavAccess, DavUserOptions } from '../../protocols/webdav/auth.js';
import { startWebdavServer, type WebdavServer } from '../../protocols/webdav/server.js';
import { Errno, isFsError } from '../../util/errno.js';
import { openVolume, type Volume } from '../../vfs/open.js';

const DEFAULT_DATA_DIR = './ferry-data';
const DEFAULT_VOLUME_NAME = 'ferry';
const DEFAULT_WEBDAV_LISTEN = '127.0.0.1:8080';

/** The YAML config file (every key optional; command-line flags win). */
const configSchema = z.object({
  meta: z.string().optional(),
  dataDir: z.string().optional(),
  nfs: z.object({
    enabled: z.boolean().optional(),
    host: z.string().optional(),
    port: z.number().int().min(0).max(65535).optional(),
    mountPort: z.number().int().min(0).max(65535).optional(),
    portmap: z.enum(['own', 'rpcbind', 'none']).optional(),
    /** Mixed into the file handle MAC; the same on every appliance serving the volume. */
    handleSecret: z.string().optional(),
    exports: z.array(exportConfigSchema).min(1).optional(),
  }).strict().optional(),
  webdav: z.object({
    enabled: z.boolean().optional(),
    listen: z.string().optional(),
    /** TLS certificate and key files (PEM); plain HTTP without them. */
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    /** htpasswd file (bcrypt) for Basic auth; per-user access and root in `users`. */
    htpasswd: z.string().optional(),
    users: z.record(z.string(), z.object({ access: z.enum(['read-only', 'read-write']).optional(), root: z.string().optional() }).strict()).optional(),
    allowBasicOverHttp: z.boolean().optional(),
    /** Access without credentials; default read-write on a loopback address without htpasswd, else none. */
    anonymous: z.enum(['none', 'read-only', 'read-write']).optional(),
    allowPropfindInfinity: z.boolean().optional(),
  }).strict().optional(),
}).strict();

export type ServeConfig = z.infer<typeof configSchema>;

interface ServeFlags {
  config?: string;
  meta?: string;
  dataDir?: string;
  nfsPort?: number;
  mountPort?: number;
  host?: string;
  portmap?: 'own' | 'rpcbind' | 'none';
  webdavListen?: string;
  nfs: boolean;
  webdav: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function hostPort(value: string): string {
  if (!/^.+:[0-9]+$/.test(value)) throw new InvalidArgumentError('expected HOST:PORT');
  return value;
}

export function loadServeConfig(file: string): ServeConfig {
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  return configSchema.parse(parsed ?? {});
}

/**
 * Opens the metadata engine of a URL. Parent directory times are updated on every change
 * (skipDirMtimeMs 0): NFS clients see directory changes only through them.
 */
async function openMetaUrl(url: string): Promise<Meta> {
  return new BaseMeta(await openEngine(url), { skipDirMtimeMs: 0, logger: rootLogger });
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

/** Opens (formatting when `embedded` and unformatted) the volume to serve. */
async function openServedVolume(metaUrl: string, embeddedDir: string | null): Promise<{ meta: Meta; volume: Volume }> {
  const meta = await openMetaUrl(metaUrl);
  try {
    try {
      await meta.load();
    } catch (err) {
      if (embeddedDir === null || !isFsError(err, Errno.ENOENT)) throw err;
      rootLogger.info({ dataDir: embeddedDir }, 'formatting the embedded default volume');
      await meta.format(defaultSetting(embeddedDir));
    }
    const volume = await openVolume({ meta }, { logger: rootLogger });
    await meta.newSession({ MountPoint: 'ferry serve' });
    return { meta, volume };
  } catch (err) {
    await meta.close().catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------- WebDAV

/** Per-user options without the keys zod leaves undefined. */
function userOptions(users: Record<string, { access?: DavAccess | undefined; root?: string | undefined }>): Record<string, DavUserOptions> {
  return Object.fromEntries(Object.entries(users).map(([name, o]) => [name, {
    ...(o.access === undefined ? {} : { access: o.access }),
    ...(o.root === undefined ? {} : { root: o.root }),
  }]));
}

/** Starts the WebDAV server of `ferry serve` from the listen address and the `webdav` config. */
function startWebdav(volume: Volume, listen: string, cfg: NonNullable<ServeConfig['webdav']>): Promise<WebdavServer> {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const anonymous = cfg.anonymous ?? (cfg.htpasswd === undefined && loopback ? 'read-write' : 'none');
  return startWebdavServer({
    vfs: volume.vfs,
    listen: { host, port: Number(listen.slice(colon + 1)) },
    ...(cfg.tlsCert !== undefined && cfg.tlsKey !== undefined ? { tls: { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) } } : {}),
    ...(cfg.htpasswd === undefined ? {} : { auth: { htpasswdPath: cfg.htpasswd, ...(cfg.users === undefined ? {} : { users: userOptions(cfg.users) }) } }),
    ...(cfg.allowBasicOverHttp === undefined ? {} : { allowBasicOverHttp: cfg.allowBasicOverHttp }),
    ...(anonymous === 'none' ? {} : { anonymous }),
    ...(cfg.allowPropfindInfinity === undefined ? {} : { allowPropfindInfinity: cfg.allowPropfindInfinity }),
    logger: rootLogger,
  });
}

export interface RunningServe {
  nfs: NfsServer | null;
  webdav: WebdavServer | null;
  close(): Promise<void>;
}

/** Starts everything `ferry serve` starts; the command adds signal handling around it. */
export async function startServe(flags: ServeFlags): Promise<RunningServe> {
  const cfg = flags.config === undefined ? {} : loadServeConfig(flags.config);
  const dataDir = resolve(flags.dataDir ?? cfg.dataDir ?? DEFAULT_DATA_DIR);
  let metaUrl = flags.meta ?? cfg.meta;
  let embedded: string | null = null;
  if (metaUrl === undefined) {
    mkdirSync(resolve(dataDir, 'objects'), { recursive: true });
    metaUrl = `sqlite3://${resolve(dataDir, 'meta.db')}`;
    embedded = dataDir;
  }
  const { meta, volume } = await openServedVolume(metaUrl, embedded);
  let nfs: NfsServer | null = null;
  try {
    if (flags.nfs && cfg.nfs?.enabled !== false) {
      const exports: ExportConfig[] = cfg.nfs?.exports === undefined ? [{ path: '/' }] : parseExports(cfg.nfs.exports);
      nfs = await startNfsServer({
        vfs: volume.vfs,
        volumeUuid: volume.setting.UUID,
        exports,
        nfsPort: flags.nfsPort ?? cfg.nfs?.port ?? DEFAULT_NFS_PORT,
        mountPort: flags.mountPort ?? cfg.nfs?.mountPort ?? DEFAULT_MOUNT_PORT,
        host: flags.host ?? cfg.nfs?.host ?? '0.0.0.0',
        portmap: flags.portmap ?? cfg.nfs?.portmap ?? 'none',
        ...(cfg.nfs?.handleSecret === undefined ? {} : { handleSecret: cfg.nfs.handleSecret }),
        logger: rootLogger,
      });
    }
  } catch (err) {
    await volume.close().catch(() => undefined);
    await meta.closeSession().catch(() => undefined);
    await meta.close().catch(() => undefined);
    throw err;
  }
  let webdav: WebdavServer | null = null;
  if (flags.webdav && cfg.webdav?.enabled !== false) {
    try {
      webdav = await startWebdav(volume, flags.webdavListen ?? cfg.webdav?.listen ?? DEFAULT_WEBDAV_LISTEN, cfg.webdav ?? {});
    } catch (err) {
      await nfs?.close();
      await volume.close().catch(() => undefined);
      await meta.closeSession().catch(() => undefined);
      await meta.close().catch(() => undefined);
      throw err;
    }
  }
  return {
    nfs,
    webdav,
    async close() {
      await webdav?.close();
      await nfs?.close();
      await volume.close();
      await meta.closeSession().catch((err: unknown) => rootLogger.warn({ err }, 'closing the session failed'));
      await meta.close();
    },
  };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a volume over NFSv3 (and WebDAV); without --meta, the embedded default volume in --data-dir')
    .option('--config <file>', 'YAML config file (meta, dataDir, nfs.{host,port,mountPort,portmap,handleSecret,exports}, webdav)')
    .option('--meta <url>', 'metadata URL of the volume (redis://, sqlite3://, memory://)')
    .option('--data-dir <dir>', `directory of the embedded default volume (default ${DEFAULT_DATA_DIR})`)
    .option('--nfs-port <n>', `NFS TCP port (default ${DEFAULT_NFS_PORT})`, port)
    .option('--mount-port <n>', `MOUNT TCP/UDP port (default ${DEFAULT_MOUNT_PORT})`, port)
    .option('--host <addr>', 'address to bind NFS and MOUNT to (default 0.0.0.0)')
    .option('--portmap <mode>', "'own' (portmapper on 111), 'rpcbind' (register with the system one) or 'none'")
    .option('--webdav-listen <host:port>', `WebDAV listen address (default ${DEFAULT_WEBDAV_LISTEN})`, hostPort)
    .option('--no-nfs', 'do not serve NFS')
    .option('--no-webdav', 'do not serve WebDAV')
    .action(async (flags: ServeFlags) => {
      if (flags.portmap !== undefined && !['own', 'rpcbind', 'none'].includes(flags.portmap)) {
        throw new InvalidArgumentError(`--portmap must be own, rpcbind or none, not ${flags.portmap}`);
      }
      const running = await startServe(flags);
      const ports = running.nfs?.ports;
      const dav = running.webdav?.address;
      process.stderr.write(`ferry: serving${ports === undefined ? '' : ` NFS on port ${ports.nfs}, MOUNT on port ${ports.mount}`}`
        + `${dav === undefined ? '' : ` WebDAV on ${dav.host}:${dav.port}`}\n`);
      await new Promise<void>((resolveStop) => {
        const stop = (signal: string): void => {
          rootLogger.info({ signal }, 'shutting down');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolveStop();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await running.close();
    });
}
