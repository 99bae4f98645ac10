/**
 * Local batches of ids (spec §B.4): inodes and slice ids are reserved from the engine `batch`
 * at a time and handed out one by one. Concurrent callers share one refill. Ids below `min`
 * are skipped (inode 1 is the root, slice 0 a hole); an id is never handed out twice.
 */
export class IdPool {
  #next = 0n;
  #end = 0n; // exclusive
  #refill: Promise<void> | null = null;

  constructor(
    private readonly reserve: (count: number) => Promise<bigint>,
    private readonly batch: number,
    private readonly min: bigint,
  ) {}

  async take(): Promise<bigint> {
    for (;;) {
      if (this.#next < this.#end) return this.#next++;
      this.#refill ??= this.#fill().finally(() => { this.#refill = null; });
      await this.#refill;
    }
  }

  async #fill(): Promise<void> {
    const first = await this.reserve(this.batch);
    const end = first + BigInt(this.batch);
    this.#next = first < this.min ? this.min : first;
    this.#end = end;
  }
}
