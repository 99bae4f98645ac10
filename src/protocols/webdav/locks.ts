/**
 * WebDAV write locks (RFC 4918 §6, §7, §9.10, §9.11): exclusive and shared, depth 0 or infinity,
 * timeouts and refresh, and the rule that a modifying request must submit (in its If header) the
 * token of every lock covering what it changes, else 423 with lock-token-submitted.
 * Locks are keyed by volume path (URL namespace), not inode, so they also cover unmapped URLs.
 * Storage is behind LockStore: VfsLockStore keeps each lock as one xattr of the volume's root
 * inode, so locks live in the metadata engine (restarts, several appliances); MemoryLockStore is
 * one process only. The conflict check and the insert are serialised per process, not across
 * appliances: two appliances granting conflicting locks in the same instant is not prevented.
 */
import { randomUUID } from 'node:crypto';
import { Errno, isFsError } from '../../util/errno.js';
import { type Credentials, ROOT_CREDENTIALS, ROOT_INODE } from '../../vfs/types.js';
import type { Vfs } from '../../vfs/vfs.js';
import { httpError } from './status.js';

/** One lock as stored. */
export interface LockRecord {
  /** 'urn:uuid:…' */
  readonly token: string;
  /** Volume path segments of the lock root. */
  readonly root: readonly Buffer[];
  readonly scope: 'exclusive' | 'shared';
  readonly depth: 0 | 'infinity';
  /** Inner XML of DAV:owner, null when none. */
  readonly ownerXml: string | null;
  /** Timeout granted in seconds. */
  readonly timeoutSec: number;
  /** Epoch ms when the lock lapses. */
  readonly expiresAtMs: number;
  /** Authenticated user that took the lock ('' when anonymous). */
  readonly principal: string;
}

/** Where locks live. Implementations must be safe for concurrent callers of one process. */
export interface LockStore {
  /** Every lock not yet removed (expired ones included; the manager filters them). */
  list(): Promise<readonly LockRecord[]>;
  /** Inserts or replaces the lock with `lock.token`. */
  put(lock: LockRecord): Promise<void>;
  /** Removes a lock; removing an unknown token is a no-op. */
  delete(token: string): Promise<void>;
}

/** In-process lock table. */
export class MemoryLockStore implements LockStore {
  readonly #locks = new Map<string, LockRecord>();

  list(): Promise<readonly LockRecord[]> {
    return Promise.resolve([...this.#locks.values()]);
  }

  put(lock: LockRecord): Promise<void> {
    this.#locks.set(lock.token, lock);
    return Promise.resolve();
  }

  delete(token: string): Promise<void> {
    this.#locks.delete(token);
    return Promise.resolve();
  }
}

/** Prefix of the root-inode xattrs holding locks: `webdav-lock.<token>`. */
export const LOCK_XATTR_PREFIX = 'webdav-lock.';

interface StoredLock {
  token: string;
  root: string[];
  scope: 'exclusive' | 'shared';
  depth: 0 | 'infinity';
  ownerXml: string | null;
  timeoutSec: number;
  expiresAtMs: number;
  principal: string;
}

/**
 * Locks as xattrs of the root inode (one per lock, JSON, path segments base64), written through
 * the Vfs so every appliance serving the volume sees them. Unreadable entries are skipped.
 */
export class VfsLockStore implements LockStore {
  readonly #vfs: Vfs;
  readonly #cred: Credentials;

  constructor(vfs: Vfs, cred: Credentials = ROOT_CREDENTIALS) {
    this.#vfs = vfs;
    this.#cred = cred;
  }

  async list(): Promise<readonly LockRecord[]> {
    const out: LockRecord[] = [];
    for (const name of await this.#vfs.listxattr(this.#cred, ROOT_INODE)) {
      if (!name.toString('latin1').startsWith(LOCK_XATTR_PREFIX)) continue;
      let value: Buffer;
      try {
        value = await this.#vfs.getxattr(this.#cred, ROOT_INODE, name);
      } catch (err) {
        if (isFsError(err, Errno.ENODATA)) continue;
        throw err;
      }
      const l = decodeLock(value);
      if (l !== null) out.push(l);
    }
    return out;
  }

  async put(lock: LockRecord): Promise<void> {
    const stored: StoredLock = { ...lock, root: lock.root.map((s) => s.toString('base64')) };
    await this.#vfs.setxattr(this.#cred, ROOT_INODE, Buffer.from(LOCK_XATTR_PREFIX + lock.token, 'latin1'), Buffer.from(JSON.stringify(stored)));
  }

  async delete(token: string): Promise<void> {
    try {
      await this.#vfs.removexattr(this.#cred, ROOT_INODE, Buffer.from(LOCK_XATTR_PREFIX + token, 'latin1'));
    } catch (err) {
      if (!isFsError(err, Errno.ENODATA)) throw err;
    }
  }
}

function decodeLock(value: Buffer): LockRecord | null {
  try {
    const v = JSON.parse(value.toString('utf8')) as Partial<StoredLock>;
    if (typeof v.token !== 'string' || !Array.isArray(v.root) || (v.scope !== 'exclusive' && v.scope !== 'shared')
      || (v.depth !== 0 && v.depth !== 'infinity') || typeof v.timeoutSec !== 'number' || typeof v.expiresAtMs !== 'number') return null;
    return {
      token: v.token, root: v.root.map((s) => Buffer.from(String(s), 'base64')), scope: v.scope, depth: v.depth,
      ownerXml: typeof v.ownerXml === 'string' ? v.ownerXml : null, timeoutSec: v.timeoutSec, expiresAtMs: v.expiresAtMs,
      principal: typeof v.principal === 'string' ? v.principal : '',
    };
  } catch {
    return null;
  }
}

const same = (a: readonly Buffer[], b: readonly Buffer[]): boolean =>
  a.length === b.length && a.every((s, i) => { const t = b[i]; return t !== undefined && s.equals(t); });

const isPrefix = (a: readonly Buffer[], b: readonly Buffer[]): boolean =>
  a.length <= b.length && a.every((s, i) => { const t = b[i]; return t !== undefined && s.equals(t); });

const coveringOf = (live: readonly LockRecord[], path: readonly Buffer[]): LockRecord[] =>
  live.filter((l) => same(l.root, path) || (l.depth === 'infinity' && isPrefix(l.root, path)));

const belowOf = (live: readonly LockRecord[], path: readonly Buffer[]): LockRecord[] =>
  live.filter((l) => l.root.length > path.length && isPrefix(path, l.root));

/** What a modifying request touches, for the token check. */
export interface ModifyScope {
  /** The resource itself is changed (content, properties, removal). */
  readonly path: readonly Buffer[];
  /** Everything below `path` is changed too (DELETE/MOVE of a collection). */
  readonly subtree?: boolean;
  /** A member is added to or removed from the parent collection (its depth-0 locks count). */
  readonly parentMembership?: boolean;
}

/** Lock semantics over a LockStore. Hold no lock of your own around its calls. */
export class LockManager {
  readonly #store: LockStore;
  readonly #now: () => number;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(store: LockStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Runs lock-table changes one at a time (check-then-insert must not interleave). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #live(): Promise<LockRecord[]> {
    const now = this.#now();
    const out: LockRecord[] = [];
    for (const l of await this.#store.list()) {
      if (l.expiresAtMs <= now) await this.#store.delete(l.token);
      else out.push(l);
    }
    return out;
  }

  /** Locks whose scope includes `path`: rooted there, or depth infinity at an ancestor. */
  async covering(path: readonly Buffer[]): Promise<LockRecord[]> {
    return coveringOf(await this.#live(), path);
  }

  /**
   * The live locks read once, answering `covering` for many paths (the entries of one PROPFIND):
   * one read of the lock store instead of one per path.
   */
  async coveringSnapshot(): Promise<(path: readonly Buffer[]) => LockRecord[]> {
    const live = await this.#live();
    return (path) => coveringOf(live, path);
  }

  /** Locks rooted strictly below `path`. */
  async below(path: readonly Buffer[]): Promise<LockRecord[]> {
    return belowOf(await this.#live(), path);
  }

  /** The live lock with this token, if any. */
  async get(token: string): Promise<LockRecord | undefined> {
    return (await this.#live()).find((l) => l.token === token);
  }

  /**
   * 423 (lock-token-submitted, listing the lock roots) unless every lock on what the request
   * changes is satisfied: an exclusive lock by its own token, a group of shared locks on one
   * root by any one of their tokens.
   */
  async assertCanModify(scope: ModifyScope, submitted: readonly string[], hrefOf: (root: readonly Buffer[]) => string): Promise<void> {
    const missing = (await this.#unsatisfied(scope, submitted)).map((l) => hrefOf(l.root));
    if (missing.length > 0) {
      throw httpError('LOCKED', 'no lock token submitted', { condition: { name: 'lock-token-submitted', hrefs: missing } });
    }
  }

  /** True when assertCanModify would pass (no 423), without building the error. */
  async permits(scope: ModifyScope, submitted: readonly string[]): Promise<boolean> {
    return (await this.#unsatisfied(scope, submitted)).length === 0;
  }

  /** One lock per lock root on `scope` whose token(s) were not submitted. */
  async #unsatisfied(scope: ModifyScope, submitted: readonly string[]): Promise<LockRecord[]> {
    const live = await this.#live();
    if (live.length === 0) return [];
    const relevant = new Map<string, LockRecord>();
    for (const l of coveringOf(live, scope.path)) relevant.set(l.token, l);
    if (scope.subtree === true) for (const l of belowOf(live, scope.path)) relevant.set(l.token, l);
    if (scope.parentMembership === true && scope.path.length > 0) {
      for (const l of coveringOf(live, scope.path.slice(0, -1))) relevant.set(l.token, l);
    }
    const byRoot = new Map<string, LockRecord[]>();
    for (const l of relevant.values()) {
      const k = l.root.map((s) => s.toString('hex')).join('/');
      byRoot.set(k, [...(byRoot.get(k) ?? []), l]);
    }
    const out: LockRecord[] = [];
    for (const locks of byRoot.values()) {
      const first = locks[0];
      if (first !== undefined && !locks.some((l) => submitted.includes(l.token))) out.push(first);
    }
    return out;
  }

  /** Creates a lock; 423 no-conflicting-lock when it conflicts with an existing one. */
  lock(req: Omit<LockRecord, 'token' | 'expiresAtMs'>, hrefOf: (root: readonly Buffer[]) => string): Promise<LockRecord> {
    return this.#serial(async () => {
      const conflicts = [...await this.covering(req.root), ...(req.depth === 'infinity' ? await this.below(req.root) : [])]
        .filter((l) => l.scope === 'exclusive' || req.scope === 'exclusive');
      const first = conflicts[0];
      if (first !== undefined) {
        throw httpError('LOCKED', 'conflicting lock', { condition: { name: 'no-conflicting-lock', hrefs: [hrefOf(first.root)] } });
      }
      const lock: LockRecord = { ...req, token: `urn:uuid:${randomUUID()}`, expiresAtMs: this.#now() + req.timeoutSec * 1000 };
      await this.#store.put(lock);
      return lock;
    });
  }

  /** Extends a lock's timeout; undefined when the token names no live lock. */
  refresh(token: string, timeoutSec: number): Promise<LockRecord | undefined> {
    return this.#serial(async () => {
      const l = await this.get(token);
      if (l === undefined) return undefined;
      const next: LockRecord = { ...l, timeoutSec, expiresAtMs: this.#now() + timeoutSec * 1000 };
      await this.#store.put(next);
      return next;
    });
  }

  /** Removes a lock (idempotent). */
  unlock(token: string): Promise<void> {
    return this.#serial(() => this.#store.delete(token));
  }

  /** Drops every lock rooted at or below `path` (the resources are gone or moved away). */
  async dropTree(path: readonly Buffer[]): Promise<void> {
    await this.#serial(async () => {
      for (const l of await this.#live()) if (isPrefix(path, l.root)) await this.#store.delete(l.token);
    });
  }

  /** Seconds left of a lock, for lockdiscovery. */
  remainingSec(l: LockRecord): number {
    return Math.max(0, Math.ceil((l.expiresAtMs - this.#now()) / 1000));
  }
}
