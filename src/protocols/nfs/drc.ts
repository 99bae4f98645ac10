/**
 * Duplicate request cache for non-idempotent procedures (RFC 1813 §4.1 on retransmissions; the
 * knfsd nfscache idea). A retransmitted call, recognised by (client, xid, prog, vers, proc, args
 * checksum), gets the reply of the first execution instead of running again: if the original is
 * still running the retransmission waits for it, if it finished within `ttlMs` the stored reply
 * is sent. Bounded by entry count, bytes and age (LRU). Node-local state: it cannot make a retry
 * that lands on another appliance safe, and it must not be used for idempotent procedures.
 */
import { crc32 } from 'node:zlib';

export interface DrcOptions {
  /** Completed entries kept at most (least recently used go first). */
  maxEntries: number;
  /** Reply bytes kept at most over all completed entries. */
  maxBytes: number;
  /** A completed entry older than this is forgotten. */
  ttlMs: number;
  /**
   * Key on address and source port (knfsd does; the Linux client reconnects from the same port)
   * or on the address alone (for clients that retransmit from a new port).
   */
  keyByPort: boolean;
  /** Clock in ms; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_DRC_OPTIONS: DrcOptions = { maxEntries: 4096, maxBytes: 16 * 1024 * 1024, ttlMs: 120_000, keyByPort: true };

/** What one execution produced: the reply to send, and whether retransmissions may reuse it. */
export interface DrcOutcome {
  reply: Buffer[];
  /** False for replies that describe a server fault (SYSTEM_ERR): a later retry runs again. */
  cacheable: boolean;
}

export interface DrcRequest {
  address: string;
  port: number;
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** Undecoded argument bytes; their checksum keeps xid reuse by one client from matching. */
  args: Buffer;
}

export interface DrcStats {
  /** Requests executed (cache misses). */
  executed: number;
  /** Retransmissions answered from a completed entry. */
  replayed: number;
  /** Retransmissions that waited for the original still in progress. */
  joined: number;
  entries: number;
  bytes: number;
  inProgress: number;
}

interface Done {
  reply: Buffer[];
  bytes: number;
  at: number;
}

export class DuplicateRequestCache {
  readonly #opts: DrcOptions;
  readonly #now: () => number;
  /** Completed entries in LRU order (Map iteration order = least recently used first). */
  readonly #done = new Map<string, Done>();
  /** Executions in progress; never evicted, their count is bounded by the in-flight limits. */
  readonly #pending = new Map<string, Promise<DrcOutcome>>();
  #bytes = 0;
  #executed = 0;
  #replayed = 0;
  #joined = 0;

  constructor(opts: Partial<DrcOptions> = {}) {
    this.#opts = { ...DEFAULT_DRC_OPTIONS, ...opts };
    this.#now = opts.now ?? Date.now;
  }

  stats(): DrcStats {
    return { executed: this.#executed, replayed: this.#replayed, joined: this.#joined, entries: this.#done.size, bytes: this.#bytes, inProgress: this.#pending.size };
  }

  #key(q: DrcRequest): string {
    const client = this.#opts.keyByPort ? `${q.address}|${q.port}` : q.address;
    return `${client}|${q.xid}|${q.prog}|${q.vers}|${q.proc}|${q.args.length}|${crc32(q.args)}`;
  }

  /**
   * Returns the reply for `q`, running `execute` only if no equal request is in progress or
   * completed within the TTL. If `execute` rejects (the caller's connection went away), nothing
   * is stored and any waiting retransmission executes the request itself.
   */
  async run(q: DrcRequest, execute: () => Promise<DrcOutcome>): Promise<Buffer[]> {
    const key = this.#key(q);
    for (;;) {
      const done = this.#lookup(key);
      if (done !== undefined) {
        this.#replayed++;
        return done.reply;
      }
      const pending = this.#pending.get(key);
      if (pending === undefined) break;
      this.#joined++;
      try {
        return (await pending).reply;
      } catch {
        // The original was abandoned; loop to find a new pending run or start one.
      }
    }
    this.#executed++;
    const running = execute();
    this.#pending.set(key, running);
    try {
      const outcome = await running;
      if (outcome.cacheable) this.#store(key, outcome.reply);
      return outcome.reply;
    } finally {
      this.#pending.delete(key);
    }
  }

  #lookup(key: string): Done | undefined {
    const e = this.#done.get(key);
    if (e === undefined) return undefined;
    this.#done.delete(key);
    if (this.#now() - e.at > this.#opts.ttlMs) {
      this.#bytes -= e.bytes;
      return undefined;
    }
    this.#done.set(key, e);
    return e;
  }

  #store(key: string, reply: Buffer[]): void {
    const bytes = reply.reduce((n, b) => n + b.length, 0);
    if (bytes > this.#opts.maxBytes) return;
    const old = this.#done.get(key);
    if (old !== undefined) {
      this.#done.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#done.set(key, { reply, bytes, at: this.#now() });
    this.#bytes += bytes;
    this.#evict();
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, e] of this.#done) {
      const over = this.#done.size > this.#opts.maxEntries || this.#bytes > this.#opts.maxBytes;
      if (!over && now - e.at <= this.#opts.ttlMs) break;
      this.#done.delete(key);
      this.#bytes -= e.bytes;
    }
  }
}
