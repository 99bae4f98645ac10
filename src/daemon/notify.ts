/**
 * systemd readiness protocol (sd_notify(3)): READY=1, STATUS=..., WATCHDOG=1, STOPPING=1 sent as
 * datagrams to $NOTIFY_SOCKET (a path, or '@name' in the abstract namespace). The datagram is
 * sent by Ferry's Node-API addon (native/sd-notify.c); no helper process is spawned. Without
 * NOTIFY_SOCKET every call is a no-op. It must not decide readiness: the caller sends READY=1
 * once every listener is bound and the volume is open.
 */
import { createRequire } from 'node:module';
import { logger } from '../observability/logger.js';

const log = logger.child({ module: 'notify' });

interface NotifyAddon { notifySend(address: string, payload: Buffer): void }

let addon: NotifyAddon | undefined;
function loadAddon(): NotifyAddon {
  if (addon === undefined) {
    const require = createRequire(import.meta.url);
    // dist/src/daemon/notify.js -> dist/native/ferry.node (scripts/build-native.sh)
    try {
      addon = require('../../native/ferry.node') as NotifyAddon;
    } catch (err) {
      throw new Error('the addon dist/native/ferry.node (systemd notify) is missing: run `npm run build` (scripts/build-native.sh)', { cause: err });
    }
  }
  return addon;
}

export interface NotifyEnv {
  /** $NOTIFY_SOCKET; undefined means not started by systemd (all sends are no-ops). */
  socket?: string | undefined;
  /** $WATCHDOG_USEC in microseconds; undefined or 0 means no watchdog. */
  watchdogUsec?: string | undefined;
  /** $WATCHDOG_PID: when set and not our pid, the watchdog is meant for another process. */
  watchdogPid?: string | undefined;
}

/** Talks to the service manager. One per process. */
export class SystemdNotifier {
  readonly #socket: string | undefined;
  readonly #watchdogIntervalMs: number | undefined;
  #timer: NodeJS.Timeout | undefined; // the watchdog ping timer, set by startWatchdog()

  constructor(env: NotifyEnv = { socket: process.env['NOTIFY_SOCKET'], watchdogUsec: process.env['WATCHDOG_USEC'], watchdogPid: process.env['WATCHDOG_PID'] }) {
    this.#socket = env.socket !== undefined && env.socket !== '' ? env.socket : undefined;
    const usec = env.watchdogUsec !== undefined ? Number(env.watchdogUsec) : 0;
    const forUs = env.watchdogPid === undefined || env.watchdogPid === '' || Number(env.watchdogPid) === process.pid;
    this.#watchdogIntervalMs = Number.isFinite(usec) && usec > 0 && forUs ? Math.max(1, Math.floor(usec / 2000)) : undefined;
    if (this.#socket !== undefined) loadAddon(); // fail at start-up, not at the first READY
  }

  /** True when NOTIFY_SOCKET was set, i.e. messages are really sent. */
  get enabled(): boolean { return this.#socket !== undefined; }

  /** Half of WATCHDOG_USEC in milliseconds, or undefined when no watchdog is configured. */
  get watchdogIntervalMs(): number | undefined { return this.#watchdogIntervalMs; }

  /** Sends raw KEY=VALUE lines in one datagram. Throws when the socket refuses it. */
  send(...lines: string[]): void {
    if (this.#socket === undefined) return;
    loadAddon().notifySend(this.#socket, Buffer.from(lines.join('\n'), 'utf8'));
  }

  /** READY=1 (with an optional STATUS line). Call only when the service is fully usable. */
  ready(status?: string): void {
    this.send('READY=1', ...(status !== undefined ? [statusLine(status)] : []));
  }

  /** STATUS=<text>, shown by `systemctl status`. */
  status(text: string): void { this.send(statusLine(text)); }

  /** RELOADING=1 while SIGHUP hooks run; follow with ready(). */
  reloading(): void { this.send('RELOADING=1'); }

  /** STOPPING=1; also stops the watchdog pings. */
  stopping(status?: string): void {
    this.stopWatchdog();
    this.send('STOPPING=1', ...(status !== undefined ? [statusLine(status)] : []));
  }

  /** Starts WATCHDOG=1 pings every WATCHDOG_USEC/2; a no-op without a watchdog. Idempotent. */
  startWatchdog(): void {
    if (this.#socket === undefined || this.#watchdogIntervalMs === undefined || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      try {
        this.send('WATCHDOG=1');
      } catch (err) {
        log.warn({ err }, 'watchdog ping failed');
      }
    }, this.#watchdogIntervalMs);
    this.#timer.unref();
  }

  /** Stops the watchdog pings. Idempotent. */
  stopWatchdog(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function statusLine(text: string): string {
  return `STATUS=${text.replace(/\n/g, ' ')}`;
}
