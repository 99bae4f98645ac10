/**
 * Test helpers for the cache suites: a counting/gating/failing ObjectStore decorator over a real
 * store (STYLE.md §9: fault injection by decorators, no mocks), deterministic block bytes, a
 * settable statfs, and a logger that records its lines.
 */
import { createHash } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { blockKey } from '../../src/storage/keys.js';
import type { ByteRange, ListOptions, ObjectInfo, ObjectStore } from '../../src/storage/object-store.js';
import { Errno, FsError } from '../../src/util/errno.js';
import type { FsSpace, StatFsFn } from '../../src/util/fs-space.js';

/** A gate: calls wait on it until open() (it can be re-closed with close()). */
export class Gate {
  #open = true;
  #waiters: (() => void)[] = [];

  close(): void {
    this.#open = false;
  }

  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Waits until the gate is open; rejects with the reason if `signal` aborts first (as a real store call would). */
  async pass(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#open) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/** Records every call; gets and puts can be held at a gate, and the next N puts can fail with EIO. */
export class CountingStore implements ObjectStore {
  readonly description: string;
  readonly getCalls: { key: string; range: ByteRange | undefined }[] = [];
  readonly putCalls: string[] = [];
  readonly getGate = new Gate();
  readonly putGate = new Gate();
  failPuts = 0;
  readonly #inner: ObjectStore;
  #callWaiters: { pred: () => boolean; resolve: () => void }[] = [];

  /** In-place reads (only when the inner store has them), recorded like gets and held at the get gate. */
  readonly readInto?: (key: string, range: ByteRange, dest: Buffer, signal?: AbortSignal) => Promise<number>;
  readonly intoCalls: { key: string; range: ByteRange }[] = [];

  constructor(inner: ObjectStore) {
    this.#inner = inner;
    this.description = `counting(${inner.description})`;
    const into = inner.readInto?.bind(inner);
    if (into !== undefined) {
      this.readInto = async (key, range, dest, signal) => {
        this.intoCalls.push({ key, range });
        this.#recorded();
        await this.getGate.pass(signal);
        return into(key, range, dest, signal);
      };
    }
  }

  gets(key: string): number {
    return this.getCalls.filter((c) => c.key === key).length;
  }

  /** Resolves once `pred` holds after some call was recorded. */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => this.#callWaiters.push({ pred, resolve }));
  }

  #recorded(): void {
    this.#callWaiters = this.#callWaiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }

  async get(key: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    this.getCalls.push({ key, range });
    this.#recorded();
    await this.getGate.pass(signal);
    return this.#inner.get(key, range, signal);
  }

  async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    this.putCalls.push(key);
    this.#recorded();
    await this.putGate.pass(signal);
    if (this.failPuts > 0) {
      this.failPuts--;
      throw new FsError(Errno.EIO, `injected put failure for ${key}`);
    }
    return this.#inner.put(key, body, signal);
  }

  delete(key: string, signal?: AbortSignal): Promise<void> {
    return this.#inner.delete(key, signal);
  }

  head(key: string, signal?: AbortSignal): Promise<{ size: number; mtime: Date }> {
    return this.#inner.head(key, signal);
  }

  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.#inner.list(prefix, opts);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Deterministic pseudo-random bytes for block `seed` (the same in a child process). */
export function blockBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let counter = 0;
  for (let at = 0; at < length; at += 32) {
    createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, at, 0, Math.min(32, length - at));
  }
  return out;
}

/** The key of block 0 of slice `id`, `length` bytes long. */
export const keyOf = (id: number, length: number): string => blockKey(BigInt(id), 0, length);

/** A statfs whose answer the test sets. */
export function settableStatfs(space: FsSpace): { statfs: StatFsFn; space: FsSpace } {
  return { statfs: async () => ({ ...space }), space };
}

/** A plentiful disk, so tests are not at the mercy of the real one. */
export const roomyStatfs: StatFsFn = async () => ({ totalBytes: 2 ** 40, freeBytes: 2 ** 39 });

/** A pino logger that keeps its JSON lines. */
export function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}
