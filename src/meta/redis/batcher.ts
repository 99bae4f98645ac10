/**
 * Tick batching ("group commit") for the Redis engine's hot primitives: requests issued during the
 * same tick of the event loop go to Redis as ONE command (an MGET, or one script call over many
 * independent items) when the tick ends. Every request in a batch was issued before the command
 * is sent, so a batched read is exactly as fresh as a lone one; a batched script still applies
 * each item atomically and answers each item on its own. No I/O here: the engine supplies `send`.
 */

interface Pending<T, R> {
  item: T;
  resolve(r: R): void;
  reject(err: unknown): void;
}

export class TickBatcher<T, R> {
  readonly #send: (items: T[]) => Promise<(R | Error)[]>;
  readonly #max: number;
  #queue: Pending<T, R>[] = [];
  #scheduled = false;

  /**
   * `send` answers one result per item, in order (an Error rejects that item only); when it
   * throws, every item of the batch is rejected with that error. At most `max` items per send.
   */
  constructor(send: (items: T[]) => Promise<(R | Error)[]>, max: number) {
    this.#send = send;
    this.#max = max;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#max) {
        this.#flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#send(batch.map((p) => p.item)).then((results) => {
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof Error) p.reject(r);
        else if (i < results.length) p.resolve(r as R);
        else p.reject(new Error('batch answered fewer results than items'));
      });
    }, (err: unknown) => {
      for (const p of batch) p.reject(err);
    });
  }
}
