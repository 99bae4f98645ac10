/**
 * HTTP Basic authentication (RFC 7617) against an htpasswd file of bcrypt hashes ($2y$, $2a$,
 * $2b$), with per-user access options. A verified (user, password) pair is remembered for a short
 * TTL as an HMAC under a per-process key, compared in constant time, so bcrypt does not run on
 * every request; failures are never cached. reload() re-reads the file (SIGHUP) and forgets all.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import type { Credentials } from '../../vfs/types.js';
import { httpError } from './status.js';
import type { HttpError } from './status.js';

/** What a user may do. */
export type DavAccess = 'read-only' | 'read-write';

/** Options of one user, from Ferry's config. */
export interface DavUserOptions {
  /** Default: the users config's defaultAccess. */
  readonly access?: DavAccess;
  /** Directory of the volume the user sees as '/', e.g. '/home/alice'; default '/'. */
  readonly root?: string;
  /** File-system identity of the user's requests; default the server's (root). */
  readonly credentials?: Credentials;
}

/** The users section of the WebDAV config. */
export interface DavUsersConfig {
  /** Path of the htpasswd file (bcrypt hashes only). */
  readonly htpasswdPath: string;
  /** Per-user options; users missing here get the defaults. */
  readonly users?: Readonly<Record<string, DavUserOptions>>;
  /** Access of users without options (default 'read-write'). */
  readonly defaultAccess?: DavAccess;
  /** Realm in the challenge (default 'ferry'). */
  readonly realm?: string;
  /** How long a verified password is remembered, ms (default 60 000; 0 disables). */
  readonly cacheTtlMs?: number;
}

/** An authenticated user. */
export interface DavUser {
  /** User name as in the htpasswd file. */
  readonly name: string;
  /** read-only users get 403 READ_ONLY on every modifying method. */
  readonly access: DavAccess;
  /** Normalised absolute path inside the volume: '/' or '/a/b' (no trailing slash, no dot segments). */
  readonly root: string;
  /** File-system identity of the user's requests; undefined: the server's default. */
  readonly credentials?: Credentials;
}

/** Result of reading an htpasswd file. */
export interface Htpasswd {
  /** User name -> bcrypt hash. */
  readonly hashes: ReadonlyMap<string, string>;
  /** Lines skipped (unsupported hash scheme or malformed), 1-based, for a log warning. */
  readonly skippedLines: readonly number[];
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Parses htpasswd text: `user:hash` per line, '#' comments; only bcrypt hashes are accepted. */
export function parseHtpasswd(text: string): Htpasswd {
  const hashes = new Map<string, string>();
  const skippedLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !BCRYPT.test(hash)) {
      skippedLines.push(idx + 1);
      return;
    }
    hashes.set(user, hash);
  });
  return { hashes, skippedLines };
}

/** Normalises a configured root: absolute, '/'-separated, no '.', '..' or empty segments. */
export function normaliseRoot(root: string | undefined): string {
  if (root === undefined || root === '' || root === '/') return '/';
  if (!root.startsWith('/')) throw new Error(`webdav user root must be absolute: ${root}`);
  const segs = root.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '.' || s === '..' || s.includes('\0'))) throw new Error(`webdav user root has dot segments: ${root}`);
  return `/${segs.join('/')}`;
}

interface CacheEntry {
  readonly digest: Buffer;
  readonly expiresAt: number;
  readonly user: DavUser;
}

/**
 * A well-formed hash nobody's password matches, at the cost of the file's hashes: compared when
 * the user is unknown, so a wrong user name takes as long as a wrong password.
 */
function dummyHash(hashes: ReadonlyMap<string, string>): string {
  const first = hashes.values().next();
  const cost = first.done === true ? '10' : first.value.slice(4, 6);
  return `$2b$${cost}$${'ferry'.repeat(5).slice(0, 22)}${'ferry'.repeat(7).slice(0, 31)}`;
}

/** Authenticates Basic credentials against the htpasswd file and the users config. */
export class BasicAuthenticator {
  #config: DavUsersConfig; // replaced only by reconfigure()
  readonly #now: () => number;
  readonly #key = randomBytes(32);
  #hashes: ReadonlyMap<string, string> = new Map();
  #dummy = dummyHash(new Map());
  #cache = new Map<string, CacheEntry>();
  #inflight = new Map<string, Promise<DavUser | null>>();
  #generation = 0;
  #bcryptRuns = 0;

  constructor(config: DavUsersConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    for (const opts of Object.values(config.users ?? {})) normaliseRoot(opts.root);
  }

  /** How many bcrypt comparisons ran so far (cache effectiveness; exported as a metric later). */
  get bcryptRuns(): number {
    return this.#bcryptRuns;
  }

  /** The challenge header value sent with every 401. */
  get challenge(): string {
    return `Basic realm="${(this.#config.realm ?? 'ferry').replace(/["\\]/g, '')}", charset="UTF-8"`;
  }

  /**
   * (Re)reads the htpasswd file and drops every cached verification. On a read error the old
   * table stays in force and the error is thrown. Returns the skipped line numbers.
   */
  async reload(): Promise<readonly number[]> {
    const parsed = parseHtpasswd(await readFile(this.#config.htpasswdPath, 'utf8'));
    this.#hashes = parsed.hashes;
    this.#dummy = dummyHash(parsed.hashes);
    this.#cache = new Map();
    this.#inflight = new Map();
    this.#generation++;
    return parsed.skippedLines;
  }

  /**
   * Switches to new users options and htpasswd file (SIGHUP reload), then reload()s. When the new
   * file cannot be read or a root is invalid, the old configuration stays in force and it throws.
   */
  async reconfigure(config: DavUsersConfig): Promise<readonly number[]> {
    for (const opts of Object.values(config.users ?? {})) normaliseRoot(opts.root);
    const old = this.#config;
    this.#config = config;
    try {
      return await this.reload();
    } catch (err) {
      this.#config = old;
      throw err;
    }
  }

  /** The user for an Authorization header; 401 UNAUTHORIZED (with WWW-Authenticate) otherwise. */
  async authenticate(authorization: string | undefined): Promise<DavUser> {
    const creds = parseBasic(authorization);
    if (creds === null) throw this.#unauthorized();
    const user = await this.#verify(creds.user, creds.password);
    if (user === null) throw this.#unauthorized();
    return user;
  }

  #unauthorized(): HttpError {
    return httpError('UNAUTHORIZED', undefined, { headers: { 'WWW-Authenticate': this.challenge } });
  }

  #digest(user: string, password: string): Buffer {
    return createHmac('sha256', this.#key).update(user).update('\0').update(password).digest();
  }

  async #verify(name: string, password: string): Promise<DavUser | null> {
    const digest = this.#digest(name, password);
    const ttl = this.#config.cacheTtlMs ?? 60_000;
    const cached = this.#cache.get(name);
    if (cached !== undefined && cached.expiresAt > this.#now() && timingSafeEqual(cached.digest, digest)) return cached.user;
    // Concurrent requests with the same credentials share one bcrypt run.
    const key = digest.toString('hex');
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      const generation = this.#generation;
      pending = this.#check(name, password).then((user) => {
        if (user !== null && ttl > 0 && generation === this.#generation) {
          this.#cache.set(name, { digest, expiresAt: this.#now() + ttl, user });
        }
        return user;
      }).finally(() => {
        if (this.#inflight.get(key) === pending) this.#inflight.delete(key);
      });
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #check(name: string, password: string): Promise<DavUser | null> {
    const hash = this.#hashes.get(name);
    this.#bcryptRuns++;
    const ok = await bcrypt.compare(password, hash ?? this.#dummy);
    if (!ok || hash === undefined) return null;
    const opts = this.#config.users?.[name] ?? {};
    return {
      name, access: opts.access ?? this.#config.defaultAccess ?? 'read-write', root: normaliseRoot(opts.root),
      ...(opts.credentials === undefined ? {} : { credentials: opts.credentials }),
    };
  }
}

/** Splits `Basic base64(user:password)` (RFC 7617 §2); null when malformed. UTF-8 per our charset. */
export function parseBasic(authorization: string | undefined): { user: string; password: string } | null {
  if (authorization === undefined) return null;
  const m = /^\s*basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
  if (m === null || m[1] === undefined) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(m[1], 'base64'));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
