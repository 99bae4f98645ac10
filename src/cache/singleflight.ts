/**
 * SingleFlight: concurrent calls for one key share one execution (the idea of JuiceFS
 * pkg/chunk/singleflight.go). Each caller may abort its own wait with its signal; the shared call
 * is aborted only when every waiter has gone, and a flight that was aborted is forgotten at once
 * so a later caller starts afresh rather than inheriting the abort.
 */

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number; // callers with a signal still waiting
  pinned: boolean; // a caller without a signal joined: never abort
}

export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** Calls in flight now. */
  get size(): number {
    return this.#flights.size;
  }

  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Joins the call in flight for `key`, or starts `fn` for it; `fn` gets a signal aborted when all waiters have aborted. */
  do(key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      const controller = new AbortController();
      const started: Flight<T> = { promise: Promise.resolve().then(() => fn(controller.signal)), controller, waiters: 0, pinned: false };
      started.promise.then(
        () => this.#forget(key, started),
        () => this.#forget(key, started),
      );
      this.#flights.set(key, started);
      flight = started;
    }
    return this.#join(key, flight, signal);
  }

  /** Joins the call in flight for `key`; undefined when there is none. */
  join(key: string, signal?: AbortSignal): Promise<T> | undefined {
    const flight = this.#flights.get(key);
    return flight === undefined ? undefined : this.#join(key, flight, signal);
  }

  #join(key: string, flight: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal === undefined) {
      flight.pinned = true;
      return flight.promise;
    }
    signal.throwIfAborted();
    flight.waiters++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        flight.waiters--;
        if (flight.waiters === 0 && !flight.pinned) {
          this.#forget(key, flight);
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  #forget(key: string, flight: Flight<T>): void {
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
  }
}
