/**
 * WebDAV write locks (RFC 4918 §6, §7, §9.10, §9.11): exclusive and shared, depth 0 or infinity,
 * timeouts and refresh, and the rule that a modifying request must submit (in its If header) the
 * token of every lock covering what it changes, else 423 with lock-token-submitted.
 * Locks are keyed by volume path (URL namespace), not inode, so they also cover unmapped URLs.
 * Storage is behind LockStore, a versioned table: EngineLockStore keeps it in the metadata engine
 * under Ferry's own key or table (restarts, several appliances; JuiceFS clients never see it);
 * MemoryLockStore is one process only. Every change is a compare-and-set on the table's version,
 * so two appliances cannot both grant conflicting locks: the later one re-reads and sees the
 * conflict.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Errno, FsError, isFsError } from '../../util/errno.js';
import { ROOT_CREDENTIALS, ROOT_INODE } from '../../vfs/types.js';
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

/** The lock table at one moment. */
export interface LockTableView {
  /** Goes up with every change of the table. */
  readonly version: number;
  /** Every lock not yet removed (expired ones included; the manager filters them). */
  readonly locks: readonly LockRecord[];
  /** Tokens of records that cannot be read as locks (the next change removes them). */
  readonly unreadable?: readonly string[];
}

/** Where locks live. Implementations must be safe for concurrent callers of several processes. */
export interface LockStore {
  read(): Promise<LockTableView>;
  /** Puts (by token) and removes locks only while the table is still at `version`: false, changing nothing, when it moved on. */
  update(version: number, put: readonly LockRecord[], remove: readonly string[]): Promise<boolean>;
}

/** In-process lock table. */
export class MemoryLockStore implements LockStore {
  readonly #locks = new Map<string, LockRecord>();
  #version = 0;

  read(): Promise<LockTableView> {
    return Promise.resolve({ version: this.#version, locks: [...this.#locks.values()] });
  }

  update(version: number, put: readonly LockRecord[], remove: readonly string[]): Promise<boolean> {
    if (version !== this.#version) return Promise.resolve(false);
    for (const l of put) this.#locks.set(l.token, l);
    for (const t of remove) this.#locks.delete(t);
    this.#version++;
    return Promise.resolve(true);
  }
}

/** Prefix of the root-inode xattrs where earlier Ferry versions kept locks: `webdav-lock.<token>`. */
export const LEGACY_LOCK_XATTR_PREFIX = 'webdav-lock.';

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

const encodeLock = (lock: LockRecord): Buffer =>
  Buffer.from(JSON.stringify({ ...lock, root: lock.root.map((s) => s.toString('base64')) } satisfies StoredLock));

/** What EngineLockStore reads and changes the table through: the Vfs, or Meta in the admin tools. */
export type DavLockTableAccess = Pick<Vfs, 'readDavLocks' | 'readDavLocksVersion' | 'updateDavLocks'>;

/**
 * The lock table in the metadata engine (readDavLocks/updateDavLocks): one JSON record per lock
 * (path segments base64), so every appliance serving the volume sees them. Unreadable records
 * are skipped, and removed with the next change of the table.
 */
export class EngineLockStore implements LockStore {
  readonly #vfs: DavLockTableAccess;
  /** The table as last read: while the engine's version is still this one, it is current. */
  #last: LockTableView | null = null;

  constructor(vfs: DavLockTableAccess) {
    this.#vfs = vfs;
  }

  /** One small read of the version per call; the records only when the table changed since the last read. */
  async read(): Promise<LockTableView> {
    const last = this.#last;
    if (last !== null && await this.#vfs.readDavLocksVersion() === last.version) return last;
    const t = await this.#vfs.readDavLocks();
    const locks: LockRecord[] = [];
    const unreadable: string[] = [];
    for (const [token, value] of t.locks) {
      const l = decodeLock(value);
      if (l !== null && l.token === token) locks.push(l);
      else unreadable.push(token);
    }
    const view = { version: t.version, locks, unreadable };
    this.#last = view;
    return view;
  }

  update(version: number, put: readonly LockRecord[], remove: readonly string[]): Promise<boolean> {
    return this.#vfs.updateDavLocks(version, new Map(put.map((l) => [l.token, encodeLock(l)])), remove);
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

const isPrefix = (a: readonly Buffer[], b: readonly Buffer[]): boolean =>
  a.length <= b.length && a.every((s, i) => { const t = b[i]; return t !== undefined && s.equals(t); });

const same = (a: readonly Buffer[], b: readonly Buffer[]): boolean => a.length === b.length && isPrefix(a, b);

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

/** Attempts of one lock-table change when other appliances keep changing the table. */
const MAX_CHANGE_TRIES = 20;
/**
 * Live locks the table holds at most, and the longest DAV:owner kept: every modifying request
 * reads the table whenever it changed, so its size is bounded (about 40 MiB at worst).
 */
export const MAX_LOCKS = 10_000;
export const MAX_LOCK_OWNER_BYTES = 4096;

/** Lock semantics over a LockStore. Hold no lock of your own around its calls. */
export class LockManager {
  readonly #store: LockStore;
  readonly #now: () => number;
  readonly #maxLocks: number;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(store: LockStore, opts: { now?: () => number; maxLocks?: number } = {}) {
    this.#store = store;
    this.#now = opts.now ?? Date.now;
    this.#maxLocks = opts.maxLocks ?? MAX_LOCKS;
  }

  /** Runs this process's lock-table changes one at a time (fewer compare-and-set retries). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The table's live locks, and the tokens of its expired and unreadable records. */
  #split(t: LockTableView): { live: LockRecord[]; stale: string[] } {
    const now = this.#now();
    const live: LockRecord[] = [];
    const stale = [...t.unreadable ?? []];
    for (const l of t.locks) {
      if (l.expiresAtMs > now) live.push(l);
      else stale.push(l.token);
    }
    return { live, stale };
  }

  async #live(): Promise<LockRecord[]> {
    return this.#split(await this.#store.read()).live;
  }

  /**
   * One change of the table: `plan` sees the live locks and answers what to put and remove (and
   * the result), or throws; expired and unreadable records are removed along. Planned against
   * one version and applied only at that version: when another appliance changed the table
   * meanwhile, the table is read again and the change planned again.
   */
  #change<T>(plan: (live: LockRecord[]) => { put?: LockRecord[]; remove?: string[]; result: T }): Promise<T> {
    return this.#serial(async () => {
      for (let attempt = 1; ; attempt++) {
        const t = await this.#store.read();
        const { live, stale } = this.#split(t);
        const p = plan(live);
        const put = p.put ?? [];
        const remove = [...stale, ...(p.remove ?? [])];
        if (put.length === 0 && remove.length === 0) return p.result;
        if (await this.#store.update(t.version, put, remove)) return p.result;
        if (attempt >= MAX_CHANGE_TRIES) throw new FsError(Errno.EAGAIN, `lock table kept changing (${attempt} tries)`);
        await sleep(Math.min(attempt * 5, 50));
      }
    });
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

  /** Every live lock. */
  async all(): Promise<LockRecord[]> {
    return this.#live();
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

  /**
   * Creates a lock; 423 no-conflicting-lock when it conflicts with an existing one, 507 when the
   * table holds the most locks it may, 400 for an owner longer than MAX_LOCK_OWNER_BYTES.
   */
  lock(req: Omit<LockRecord, 'token' | 'expiresAtMs'>, hrefOf: (root: readonly Buffer[]) => string): Promise<LockRecord> {
    if (req.ownerXml !== null && Buffer.byteLength(req.ownerXml) > MAX_LOCK_OWNER_BYTES) {
      return Promise.reject(httpError('LOCK_OWNER_TOO_LARGE', `owner of ${Buffer.byteLength(req.ownerXml)} bytes, at most ${MAX_LOCK_OWNER_BYTES}`));
    }
    const token = `urn:uuid:${randomUUID()}`;
    return this.#change((live) => {
      if (live.length >= this.#maxLocks) throw httpError('TOO_MANY_LOCKS', `${live.length} live locks`);
      const conflicts = [...coveringOf(live, req.root), ...(req.depth === 'infinity' ? belowOf(live, req.root) : [])]
        .filter((l) => l.scope === 'exclusive' || req.scope === 'exclusive');
      const first = conflicts[0];
      if (first !== undefined) {
        throw httpError('LOCKED', 'conflicting lock', { condition: { name: 'no-conflicting-lock', hrefs: [hrefOf(first.root)] } });
      }
      const lock: LockRecord = { ...req, token, expiresAtMs: this.#now() + req.timeoutSec * 1000 };
      return { put: [lock], result: lock };
    });
  }

  /** Extends a lock's timeout; undefined when the token names no live lock. */
  refresh(token: string, timeoutSec: number): Promise<LockRecord | undefined> {
    return this.#change((live) => {
      const l = live.find((x) => x.token === token);
      if (l === undefined) return { result: undefined };
      const next: LockRecord = { ...l, timeoutSec, expiresAtMs: this.#now() + timeoutSec * 1000 };
      return { put: [next], result: next };
    });
  }

  /** Removes a lock (idempotent). */
  unlock(token: string): Promise<void> {
    return this.#change((live) => ({ remove: live.some((l) => l.token === token) ? [token] : [], result: undefined }));
  }

  /** Drops every lock rooted at or below `path` (the resources are gone or moved away). */
  dropTree(path: readonly Buffer[]): Promise<void> {
    return this.#change((live) => ({ remove: live.filter((l) => isPrefix(path, l.root)).map((l) => l.token), result: undefined }));
  }

  /** Adds locks kept elsewhere before (legacy storage), unless the table has their tokens already. */
  adopt(locks: readonly LockRecord[]): Promise<void> {
    return this.#change((live) => {
      const known = new Set(live.map((l) => l.token));
      return { put: locks.filter((l) => !known.has(l.token) && l.expiresAtMs > this.#now()), result: undefined };
    });
  }

  /** Seconds left of a lock, for lockdiscovery. */
  remainingSec(l: LockRecord): number {
    return Math.max(0, Math.ceil((l.expiresAtMs - this.#now()) / 1000));
  }
}

/**
 * Moves locks that earlier Ferry versions kept as `webdav-lock.*` xattrs of the root inode (where
 * JuiceFS clients saw them) into the lock table (expired ones are dropped), then removes those
 * xattrs. Answers how many locks were found there.
 */
export async function adoptLegacyLocks(vfs: Vfs, locks: LockManager): Promise<number> {
  const names = (await vfs.listxattr(ROOT_CREDENTIALS, ROOT_INODE)).filter((n) => n.toString('latin1').startsWith(LEGACY_LOCK_XATTR_PREFIX));
  if (names.length === 0) return 0;
  const legacy: LockRecord[] = [];
  for (const name of names) {
    try {
      const l = decodeLock(await vfs.getxattr(ROOT_CREDENTIALS, ROOT_INODE, name));
      if (l !== null) legacy.push(l);
    } catch (err) {
      if (!isFsError(err, Errno.ENODATA)) throw err;
    }
  }
  await locks.adopt(legacy);
  for (const name of names) {
    try {
      await vfs.removexattr(ROOT_CREDENTIALS, ROOT_INODE, name);
    } catch (err) {
      if (!isFsError(err, Errno.ENODATA)) throw err;
    }
  }
  return legacy.length;
}
