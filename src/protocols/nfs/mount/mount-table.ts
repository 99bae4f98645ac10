/**
 * The server's list of mounts (RFC 1813 §5.2.6 DUMP): which client mounted which path, recorded
 * by MNT and dropped by UMNT/UMNTALL. Purely informational (NFSv3 is stateless), so it is bounded:
 * past `maxEntries` the oldest records go. It never decides access.
 */
import type { MountEntry } from './types.js';

export const MAX_MOUNT_ENTRIES = 10_000;

export class MountTable {
  readonly #entries = new Map<string, MountEntry>(); // key: address NUL path (latin1), insertion = age order

  constructor(private readonly maxEntries = MAX_MOUNT_ENTRIES) {}

  /** Records (or refreshes) a mount of `path` by `address`, dropping the oldest past the bound. */
  add(address: string, path: Buffer): void {
    const key = MountTable.#key(address, path);
    this.#entries.delete(key);
    this.#entries.set(key, { hostname: address, directory: Buffer.from(path) });
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(k);
    }
  }

  /** UMNT: forgets one mount; unknown ones are fine. */
  remove(address: string, path: Buffer): void {
    this.#entries.delete(MountTable.#key(address, path));
  }

  /** UMNTALL: forgets every mount of `address`. */
  removeAll(address: string): void {
    for (const [key, m] of this.#entries) if (m.hostname === address) this.#entries.delete(key);
  }

  list(): MountEntry[] {
    return [...this.#entries.values()];
  }

  static #key(address: string, path: Buffer): string {
    return `${address}\0${path.toString('latin1')}`;
  }
}
