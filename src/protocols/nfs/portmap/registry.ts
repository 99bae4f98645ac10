/**
 * The in-process portmap table (RFC 1833 §3.2 semantics): at most one port per (prog, vers,
 * prot); SET refuses to replace an existing mapping, UNSET removes every protocol's mapping of
 * (prog, vers). Plain data, no I/O and no access control (the procedures do that).
 */
import type { Mapping } from './types.js';

export class PortmapRegistry {
  readonly #map = new Map<string, Mapping>();

  static #key(prog: number, vers: number, prot: number): string {
    return `${prog}/${vers}/${prot}`;
  }

  /** Adds a mapping; false if (prog, vers, prot) is already mapped. */
  set(m: Mapping): boolean {
    const key = PortmapRegistry.#key(m.prog, m.vers, m.prot);
    if (this.#map.has(key)) return false;
    this.#map.set(key, { ...m });
    return true;
  }

  /** Removes the mappings of (prog, vers) for every protocol; false if there were none. */
  unset(prog: number, vers: number): boolean {
    let removed = false;
    for (const [key, m] of this.#map) {
      if (m.prog === prog && m.vers === vers) {
        this.#map.delete(key);
        removed = true;
      }
    }
    return removed;
  }

  /** The port of (prog, vers, prot), or 0 when it is not registered. */
  getport(prog: number, vers: number, prot: number): number {
    return this.#map.get(PortmapRegistry.#key(prog, vers, prot))?.port ?? 0;
  }

  /** Every mapping, in registration order. */
  dump(): Mapping[] {
    return [...this.#map.values()].map((m) => ({ ...m }));
  }
}
