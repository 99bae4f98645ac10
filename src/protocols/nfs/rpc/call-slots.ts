/**
 * A server-wide bound on calls being processed, shared by every TCP connection of one RpcServer
 * (the per-connection bound lives in connection.ts). A connection that finds no free slot waits
 * in line; each freed slot goes to the connection that has waited longest, which takes one call
 * and queues again at the back if it has more, so one busy client cannot starve the others.
 * Counting only: it never touches sockets or calls.
 */

/** Woken when a slot is free; it takes it with tryTake() (or not, then the next waiter is woken). */
export type SlotWaiter = () => void;

export class CallSlots {
  /** At most this many calls at once; Infinity when built with 0 (unbounded). */
  readonly max: number;
  #used = 0;
  /** Insertion order is the wake-up order. */
  readonly #waiters = new Set<SlotWaiter>();

  constructor(max: number) {
    this.max = max > 0 ? max : Infinity;
  }

  /** Calls holding a slot. */
  get used(): number {
    return this.#used;
  }

  /** Connections waiting for a slot. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Takes a slot if one is free. Slots are only freed by give(), which hands them to waiters
   * first, so a free slot never exists while someone waits.
   */
  tryTake(): boolean {
    if (this.#used >= this.max) return false;
    this.#used++;
    return true;
  }

  /** Returns a slot; waiters are woken, longest first, until the slots are used up again. */
  give(): void {
    this.#used--;
    while (this.#used < this.max) {
      const first = this.#waiters.values().next();
      if (first.done === true) return;
      this.#waiters.delete(first.value);
      first.value();
    }
  }

  /** Joins the back of the line (no-op when already in it). */
  wait(waiter: SlotWaiter): void {
    this.#waiters.add(waiter);
  }

  /** Leaves the line (a closed connection). */
  cancel(waiter: SlotWaiter): void {
    this.#waiters.delete(waiter);
  }
}
