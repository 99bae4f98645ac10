/**
 * The seam between a protocol front end and whoever counts its requests (STYLE.md §8): the
 * protocol calls record() once per finished request; the daemon binds it to Prometheus
 * (metrics.ts opObserver). Protocols import only this type, never prom-client. It must not
 * import any layer.
 */

/** Receives one record per finished protocol request; must not throw and must be cheap. */
export interface OpObserver {
  /**
   * A request finished. `op` comes from a small fixed set (an NFS procedure name such as READ, an
   * HTTP method); `error` names the failure (NFS3ERR_NOENT, GARBAGE_ARGS, an HTTP status such as
   * "404") and is undefined on success.
   */
  record(op: string, seconds: number, error?: string): void;
}

/** Seconds elapsed since `started` (a process.hrtime.bigint() reading). */
export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
