/**
 * What `ferry serve` calls around the protocol servers: load the config, configure logging,
 * start the admin listener and the systemd notifier, install the signal handlers. serve.ts then
 * starts its servers, registers their stop steps and reload hooks, and calls ready(). It must
 * not start protocol servers or open the volume itself.
 */
import { configureLogger, logger } from '../observability/logger.js';
import { cachedReadsAvailable } from '../util/cached-read.js';
import { registry as defaultRegistry, type Registry } from '../observability/metrics.js';
import { startAdmin, type AdminServer } from './admin.js';
import { loadConfig, type ConfigOverrides, type FerryConfig } from './config.js';
import { Lifecycle } from './lifecycle.js';
import { SystemdNotifier } from './notify.js';

const log = logger.child({ module: 'daemon' });

export interface Appliance {
  /** The validated configuration, overrides and environment secrets applied. */
  config: FerryConfig;
  /** Register protocol stop steps (stop accepting, drain, flush vfs, close meta) and reload hooks here. */
  lifecycle: Lifecycle;
  /** systemd notifier; status() for progress messages during start-up. */
  notifier: SystemdNotifier;
  /** The admin listener; undefined when admin.enabled is false. */
  admin: AdminServer | undefined;
  /** The registry /metrics serves; protocol metrics register here. */
  registry: Registry;
  /**
   * Call once every listener is bound and the volume is open: /readyz turns 200 (while `probe`,
   * a small metadata read, succeeds), systemd gets READY=1 and the watchdog starts. Registers the
   * admin listener's close as the last stop step.
   */
  ready(status: string, probe?: () => Promise<unknown>): void;
}

export interface StartOptions {
  /** Config file; undefined means /etc/ferry/ferry.yaml if present, else defaults. */
  configPath?: string | undefined;
  overrides?: ConfigOverrides;
  registry?: Registry;
  env?: NodeJS.ProcessEnv;
}

/** Loads the config (throws ConfigError) and starts everything that is not a protocol server. */
export async function startAppliance(opts: StartOptions = {}): Promise<Appliance> {
  const env = opts.env ?? process.env;
  const config = loadConfig(opts.configPath, opts.overrides ?? {}, env);
  configureLogger({ level: config.log.level, pretty: config.log.pretty });
  const registry = opts.registry ?? defaultRegistry;
  const notifier = new SystemdNotifier({ socket: env['NOTIFY_SOCKET'], watchdogUsec: env['WATCHDOG_USEC'], watchdogPid: env['WATCHDOG_PID'] });
  notifier.startWatchdog(); // systemd counts WatchdogSec from start-up, not from READY=1
  notifier.status('starting');
  const lifecycle = new Lifecycle({ shutdownTimeoutMs: config.shutdownTimeoutSec * 1000, notifier });
  const admin = config.admin.enabled ? await startAdmin({ ...config.admin.listen, registry }) : undefined;
  if (admin !== undefined) lifecycle.onStop('readyz: not ready', () => admin.markStopping());
  lifecycle.installSignalHandlers();
  log.info({ config: config.source ?? '(defaults)', nfs: config.nfs.enabled, webdav: config.webdav.enabled }, 'appliance starting');
  if (!cachedReadsAvailable()) log.warn('the addon dist/native/ferry.node did not load (run `npm run build`): reads of local files all go through the thread pool, slower');
  let readyOnce = false;
  return {
    config, lifecycle, notifier, admin, registry,
    ready(status: string, probe?: () => Promise<unknown>) {
      if (readyOnce) return;
      readyOnce = true;
      if (admin !== undefined) lifecycle.onStop('admin listener', () => admin.close());
      admin?.markReady(probe);
      lifecycle.ready(status);
    },
  };
}
