/**
 * `ferry serve`: the appliance. Reads the one configuration (src/daemon/config.ts, flags as
 * overrides), runs under startAppliance (admin listener, systemd notify, SIGTERM stop steps,
 * SIGHUP reload hooks), opens the volume as the config says (daemon/volume.ts; the embedded default
 * volume in data-dir is formatted on first start), starts NFSv3 (+MOUNT) and WebDAV with their
 * metrics observers, and reports ready once all are bound. Stop order: listeners, vfs (flushing,
 * uploading staged blocks), meta session. It must not parse config files of its own.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startAppliance } from '../../daemon/appliance.js';
import { loadConfig, type ConfigOverrides, type FerryConfig } from '../../daemon/config.js';
import { openServedVolume } from '../../daemon/volume.js';
import { logger as rootLogger } from '../../observability/logger.js';
import { opObserver } from '../../observability/metrics.js';
import type { ExportConfig } from '../../protocols/nfs/exports.js';
import { startNfsServer, type NfsServer } from '../../protocols/nfs/server.js';
import type { DavUserOptions, DavUsersConfig } from '../../protocols/webdav/auth.js';
import { startWebdavServer, type WebdavServer, type WebdavServerOptions } from '../../protocols/webdav/server.js';
import { ROOT_INODE } from '../../vfs/types.js';
import type { Vfs } from '../../vfs/vfs.js';

interface ServeFlags {
  config?: string;
  meta?: string;
  dataDir?: string;
  nfsPort?: number;
  mountPort?: number;
  host?: string;
  portmap?: string;
  webdavListen?: string;
  adminListen?: string;
  nfs: boolean;
  webdav: boolean;
  admin: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

/** The flags as config overrides (undefined leaves the file's value). */
export function overridesOf(flags: ServeFlags): ConfigOverrides {
  return {
    meta: flags.meta,
    dataDir: flags.dataDir === undefined ? undefined : resolve(flags.dataDir),
    nfsPort: flags.nfsPort,
    mountPort: flags.mountPort,
    host: flags.host,
    portmap: flags.portmap,
    webdavListen: flags.webdavListen,
    adminListen: flags.adminListen,
    nfs: flags.nfs ? undefined : false,
    webdav: flags.webdav ? undefined : false,
    admin: flags.admin ? undefined : false,
  };
}

/** The NFS exports of the config: `*` in clients means every address, `access: ro` a read-only export. */
export function nfsExportsOf(config: FerryConfig): ExportConfig[] {
  return config.nfs.exports.map((e) => ({
    path: e.path,
    ...(e.name === undefined ? {} : { name: e.name }),
    ...(e.clients.includes('*') ? {} : { clients: [...e.clients] }),
    ro: e.access === 'ro',
    squash: e.squash,
    anonuid: e.anonuid,
    anongid: e.anongid,
    secure: e.secure,
  }));
}

/** The WebDAV users of the config; undefined without an htpasswd file (no Basic auth). */
export function davUsersOf(config: FerryConfig): DavUsersConfig | undefined {
  const w = config.webdav;
  if (w.htpasswd === undefined) return undefined;
  const users: Record<string, DavUserOptions> = Object.fromEntries(w.users.map((u) => [u.name, {
    access: u.readOnly ? 'read-only' : 'read-write', root: u.root,
    ...(u.uid === undefined || u.gid === undefined ? {} : { credentials: { uid: u.uid, gid: u.gid, gids: u.groups ?? [] } }),
  }]));
  return { htpasswdPath: w.htpasswd, users };
}

/** startWebdavServer options from the config's `webdav` section. */
export function webdavOptionsOf(config: FerryConfig, vfs: Vfs): WebdavServerOptions {
  const w = config.webdav;
  const auth = davUsersOf(config);
  return {
    vfs,
    listen: w.listen,
    ...(w.tls.cert !== undefined && w.tls.key !== undefined ? { tls: { cert: readFileSync(w.tls.cert), key: readFileSync(w.tls.key) } } : {}),
    ...(auth === undefined ? {} : { auth }),
    allowBasicOverHttp: w.allowPlainBasicAuth || isLoopback(w.listen.host),
    ...(w.anonymous === 'off' ? {} : { anonymous: w.anonymous }),
    allowPropfindInfinity: w.propfindInfinity,
    logger: rootLogger,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Runs the appliance until SIGTERM/SIGINT (the lifecycle then exits the process). */
export async function runServe(flags: ServeFlags): Promise<void> {
  const app = await startAppliance({ configPath: flags.config, overrides: overridesOf(flags) });
  const { config, lifecycle, notifier } = app;
  const cleanups: (() => Promise<void>)[] = []; // undone in reverse when start-up fails
  try {
    notifier.status('opening the volume');
    const { meta, volume, vfs } = await openServedVolume(config, app.registry);
    cleanups.push(async () => { await volume.close(); await meta.closeSession(); await meta.close(); });

    let nfs: NfsServer | undefined;
    if (config.nfs.enabled) {
      notifier.status('starting NFS');
      nfs = await startNfsServer({
        vfs,
        volumeUuid: volume.setting.UUID,
        exports: nfsExportsOf(config),
        nfsPort: config.nfs.port,
        mountPort: config.nfs.mountPort,
        host: config.nfs.host,
        portmap: config.nfs.portmap,
        maxInFlight: config.nfs.maxInFlight,
        idleTimeoutMs: config.nfs.idleTimeoutSec * 1000,
        dataAttrMs: config.nfs.dataAttrCacheMs,
        ...(config.secrets.nfsHandleSecret === undefined ? {} : { handleSecret: config.secrets.nfsHandleSecret }),
        logger: rootLogger,
        observer: opObserver('nfs', app.registry),
        mountObserver: opObserver('mount', app.registry),
      });
      const started = nfs;
      cleanups.push(() => started.close());
    }
    let webdav: WebdavServer | undefined;
    if (config.webdav.enabled) {
      notifier.status('starting WebDAV');
      webdav = await startWebdavServer({ ...webdavOptionsOf(config, vfs), observer: opObserver('webdav', app.registry) });
      const started = webdav;
      cleanups.push(() => started.close());
    }

    if (webdav !== undefined) lifecycle.onStop('webdav listener', () => webdav.close());
    if (nfs !== undefined) lifecycle.onStop('nfs listeners', () => nfs.close());
    lifecycle.onStop('vfs close (flush, upload staged blocks)', (signal) => volume.close({ drain: true, signal }));
    lifecycle.onStop('meta session', async () => {
      await meta.closeSession().catch((err: unknown) => rootLogger.warn({ err }, 'closing the session failed'));
      await meta.close();
    });
    if (nfs !== undefined) {
      lifecycle.onReload('nfs exports', () => {
        nfs.setExports(nfsExportsOf(loadConfig(config.source, overridesOf(flags))));
      });
    }
    const auth = davUsersOf(config);
    if (webdav !== undefined && auth !== undefined) {
      lifecycle.onReload('webdav users', async () => {
        const next = davUsersOf(loadConfig(config.source, overridesOf(flags)));
        if (next === undefined) throw new Error('webdav.htpasswd was removed; restart to turn authentication off');
        await webdav.reloadUsers(next);
      });
    }
    if (webdav !== undefined && config.webdav.tls.cert !== undefined) {
      lifecycle.onReload('webdav tls', () => {
        // the files are read again: a renewed certificate at the same paths is picked up
        const tls = webdavOptionsOf(loadConfig(config.source, overridesOf(flags)), volume.vfs).tls;
        if (tls === undefined) throw new Error('webdav.tls was removed; restart to serve plain HTTP');
        webdav.reloadTls(tls);
      });
    }

    const parts = [
      nfs === undefined ? undefined : `NFS on ${config.nfs.host}:${nfs.ports.nfs}, MOUNT on port ${nfs.ports.mount}`,
      webdav === undefined ? undefined : `WebDAV on ${webdav.address.host}:${webdav.address.port}`,
    ].filter((p) => p !== undefined);
    const status = `serving ${parts.length > 0 ? parts.join('; ') : 'nothing (every protocol is disabled)'}`;
    process.stderr.write(`ferry: ${status}${app.admin === undefined ? '' : `; admin on port ${app.admin.port}`}\n`);
    // a load balancer drains this appliance while it cannot reach the metadata engine
    app.ready(status, () => meta.getattr(ROOT_INODE));
  } catch (err) {
    for (const undo of cleanups.reverse()) await undo().catch((e: unknown) => rootLogger.warn({ err: e }, 'cleanup after a failed start failed'));
    await app.admin?.close().catch(() => undefined);
    lifecycle.removeSignalHandlers();
    notifier.stopWatchdog();
    throw err;
  }
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a volume over NFSv3 and WebDAV (configuration: docs/configuration.md; flags override the file)')
    .option('--config <file>', 'YAML configuration file (default /etc/ferry/ferry.yaml when it exists)')
    .option('--meta <url>', 'metadata URL of the volume (meta.url; default the embedded SQLite volume in data-dir)')
    .option('--data-dir <dir>', 'directory of the embedded default volume (data-dir)')
    .option('--nfs-port <n>', 'NFS TCP port (nfs.port)', port)
    .option('--mount-port <n>', 'MOUNT TCP/UDP port (nfs.mount-port)', port)
    .option('--host <addr>', 'address NFS, MOUNT and portmap bind (nfs.host)')
    .option('--portmap <mode>', 'own, rpcbind or none (nfs.portmap)')
    .option('--webdav-listen <host:port>', 'WebDAV listen address (webdav.listen)')
    .option('--admin-listen <host:port>', 'admin listener for /metrics, /healthz, /readyz (admin.listen)')
    .option('--no-nfs', 'do not serve NFS')
    .option('--no-webdav', 'do not serve WebDAV')
    .option('--no-admin', 'no admin listener')
    .action(async (flags: ServeFlags) => {
      await runServe(flags);
    });
}
