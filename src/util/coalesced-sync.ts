/**
 * Group sync: many callers that each need "a sync that started after I asked" share few runs of
 * one sync operation (an fsync of a directory, an fdatasync of a WAL). A call while nothing runs
 * starts a run; calls while one runs share the single run queued behind it. Each caller gets the
 * outcome of a run that started after its call. It knows nothing of what the sync does.
 */
export class CoalescedSync {
  readonly #run: () => Promise<void>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(run: () => Promise<void>) {
    this.#run = run;
  }

  /** True when no run is in progress or queued. */
  get idle(): boolean {
    return this.#running === undefined && this.#next === undefined;
  }

  /** Resolves when a run that started after this call has completed; rejects with its failure. */
  sync(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    this.#next ??= this.#running.catch(() => undefined).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  /** Resolves when the run in progress (if any) and the one queued behind it have settled. */
  async settled(): Promise<void> {
    await this.#next?.catch(() => undefined);
    await this.#running?.catch(() => undefined);
  }

  #start(): Promise<void> {
    const p = this.#run().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }
}
