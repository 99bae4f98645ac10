/**
 * Process lifecycle: SIGTERM/SIGINT run the registered stop steps in registration order (stop
 * accepting, finish in-flight requests, flush vfs, close the meta session), the whole sequence
 * bounded by a timeout, then exit; SIGHUP runs the reload hooks (exports, WebDAV users, TLS) one
 * after another without touching listeners. It must not know what the steps do.
 */
import { logger } from '../observability/logger.js';
import type { SystemdNotifier } from './notify.js';

const log = logger.child({ module: 'lifecycle' });

/** One shutdown step; `signal` aborts when the overall shutdown timeout expires. */
export type StopFn = (signal: AbortSignal) => Promise<void> | void;
/** One reload hook; a throwing hook is logged and the remaining hooks still run. */
export type ReloadFn = () => Promise<void> | void;

export interface LifecycleOptions {
  /** Upper bound for all stop steps together; past it the process exits with code 1. */
  shutdownTimeoutMs: number;
  /** Told STOPPING=1 / RELOADING=1 / READY=1; optional. */
  notifier?: SystemdNotifier | undefined;
  /** Called with the exit code when shutdown ends; defaults to process.exit. */
  exit?: ((code: number) => void) | undefined;
}

export class Lifecycle {
  readonly #stopSteps: { name: string; fn: StopFn }[] = [];
  readonly #reloadHooks: { name: string; fn: ReloadFn }[] = [];
  readonly #opts: LifecycleOptions;
  #shutdown: Promise<number> | undefined; // set once, by the first shutdown() call
  #reloading: Promise<void> | undefined; // the reload in progress, if any
  #reloadAgain = false; // a SIGHUP arrived during a reload: run the hooks once more
  #handlers: { signal: NodeJS.Signals; fn: () => void }[] = [];
  #ready = false; // set by ready(); reloads before it do not send READY=1

  constructor(opts: LifecycleOptions) {
    this.#opts = opts;
  }

  /** Adds a stop step; steps run in the order they were added. */
  onStop(name: string, fn: StopFn): void { this.#stopSteps.push({ name, fn }); }

  /** Adds a reload hook; hooks run in the order they were added. */
  onReload(name: string, fn: ReloadFn): void { this.#reloadHooks.push({ name, fn }); }

  /**
   * Marks the service usable: sends READY=1 (with STATUS) and starts the watchdog pings. Call it
   * only when every listener is bound and the volume is open.
   */
  ready(status: string): void {
    this.#ready = true;
    this.#notify((n) => {
      n.ready(status);
      n.startWatchdog();
    });
  }

  /** True once shutdown has begun. */
  get stopping(): boolean { return this.#shutdown !== undefined; }

  /** Routes SIGTERM and SIGINT to shutdown() and SIGHUP to reload(). */
  installSignalHandlers(): void {
    const on = (signal: NodeJS.Signals, fn: () => void): void => {
      process.on(signal, fn);
      this.#handlers.push({ signal, fn });
    };
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      on(signal, () => {
        if (this.stopping) {
          log.warn({ signal }, 'already shutting down');
          return;
        }
        void this.shutdown(signal);
      });
    }
    on('SIGHUP', () => { void this.reload(); });
  }

  /** Removes the handlers installSignalHandlers() added. */
  removeSignalHandlers(): void {
    for (const h of this.#handlers) process.off(h.signal, h.fn);
    this.#handlers = [];
  }

  /**
   * Runs the stop steps once (later calls return the same promise), then calls exit with 0 when
   * every step finished in time, 1 when a step threw or the timeout expired.
   */
  shutdown(reason: string): Promise<number> {
    this.#shutdown ??= this.#runShutdown(reason);
    return this.#shutdown;
  }

  async #runShutdown(reason: string): Promise<number> {
    log.info({ reason, steps: this.#stopSteps.map((s) => s.name) }, 'shutting down');
    this.#notify((n) => n.stopping(`stopping (${reason})`));
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#opts.shutdownTimeoutMs);
    });
    let code = 0;
    const steps = (async () => {
      for (const step of this.#stopSteps) {
        if (abort.signal.aborted) return;
        try {
          log.debug({ step: step.name }, 'stop step');
          await step.fn(abort.signal);
        } catch (err) {
          code = 1;
          log.error({ err, step: step.name }, 'stop step failed');
        }
      }
    })();
    const outcome = await Promise.race([steps.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      abort.abort(new Error('shutdown timeout'));
      code = 1;
      log.error({ timeoutMs: this.#opts.shutdownTimeoutMs }, 'shutdown timed out; exiting with steps unfinished');
    } else {
      log.info({ code }, 'shutdown complete');
    }
    (this.#opts.exit ?? ((c: number) => process.exit(c)))(code);
    return code;
  }

  /** Runs the reload hooks; a reload requested while one runs is done once more afterwards. */
  async reload(): Promise<void> {
    if (this.stopping) return;
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        if (this.#ready) this.#notify((n) => n.reloading());
        for (const hook of this.#reloadHooks) {
          try {
            await hook.fn();
            log.info({ hook: hook.name }, 'reloaded');
          } catch (err) {
            log.error({ err, hook: hook.name }, 'reload failed; keeping the previous settings');
          }
        }
        if (this.#ready) this.#notify((n) => n.ready('reloaded'));
      } while (this.#reloadAgain && !this.stopping);
    })();
    try {
      await this.#reloading;
    } finally {
      this.#reloading = undefined;
    }
  }

  #notify(fn: (n: SystemdNotifier) => void): void {
    const n = this.#opts.notifier;
    if (n === undefined) return;
    try {
      fn(n);
    } catch (err) {
      log.warn({ err }, 'systemd notification failed');
    }
  }
}
