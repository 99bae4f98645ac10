/**
 * The appliance configuration: one YAML file (default /etc/ferry/ferry.yaml, documented key by
 * key in docs/configuration.md and packaging/deb/ferry.yaml), validated with zod at start-up.
 * Secrets come only from the environment (META_PASSWORD/REDIS_PASSWORD, FERRY_S3_*, AWS_*,
 * FERRY_NFS_HANDLE_SECRET);
 * CLI flags override file values. Errors name the offending key. It must not open anything.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DATA_ATTR_MS } from '../protocols/nfs/nfs3/vfs-adapter.js';

export const DEFAULT_CONFIG_PATH = '/etc/ferry/ferry.yaml';
export const DEFAULT_DATA_DIR = '/var/lib/ferry';
export const DEFAULT_CACHE_DIR = '/var/cache/ferry';

/** One problem in the configuration: the dotted YAML key and what is wrong with it. */
export interface ConfigIssue {
  /** Dotted path of the key as written in the YAML file, e.g. `nfs.exports.0.squash`; '' for the whole file. */
  key: string;
  /** What is wrong, in words a person can act on. */
  message: string;
}

/** Thrown by loadConfig()/parseConfig(); `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  readonly code = 'ERR_FERRY_CONFIG';
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(`invalid configuration in ${source}:\n${issues.map((i) => `  ${i.key === '' ? '(file)' : i.key}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 1e3, kib: 2 ** 10, m: 2 ** 20, mb: 1e6, mib: 2 ** 20, g: 2 ** 30, gb: 1e9, gib: 2 ** 30, t: 2 ** 40, tb: 1e12, tib: 2 ** 40 };

/** A size: a plain number means MiB (as in JuiceFS flags), or a string such as "100GiB", "512M". */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a non-negative number of MiB' });
      return z.NEVER;
    }
    return Math.round(v * 2 ** 20);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v);
  const mult = m?.[2] !== undefined ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (m?.[1] === undefined || mult === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (use e.g. 1024 for MiB, or "100GiB", "512M")` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * mult);
});

const port = z.number().int().min(1).max(65535);
const absPath = z.string().refine((p) => isAbsolute(p), { message: 'must be an absolute path' });

/** host:port, with IPv6 hosts in brackets ([::1]:8080). */
const listen = z.string().transform((v, ctx) => {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(v);
  const host = m?.[1] ?? m?.[2];
  const p = m?.[3] !== undefined ? Number(m[3]) : NaN;
  if (host === undefined || !(p >= 0 && p <= 65535)) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not host:port (e.g. 127.0.0.1:8080 or [::1]:8080)` });
    return z.NEVER;
  }
  return { host: host === '' ? '0.0.0.0' : host, port: p };
});

/** An NFS client pattern: '*', an IP address or a CIDR network (the NFS server matches addresses only). */
const clientPattern = z.string().refine((c) => {
  if (c === '*') return true;
  const [addr, bits, ...rest] = c.split('/');
  if (addr === undefined || rest.length > 0) return false;
  const family = isIP(addr);
  if (bits === undefined) return family !== 0;
  const n = Number(bits);
  return family !== 0 && /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}, { message: 'must be "*", an IP address or a CIDR network (10.0.0.0/8, fd00::/8)' });

const exportSchema = z.strictObject({
  path: absPath,
  name: absPath.optional(),
  clients: z.array(clientPattern).min(1).default(['*']),
  access: z.enum(['rw', 'ro']).default('rw'),
  squash: z.enum(['root_squash', 'all_squash', 'no_root_squash']).default('root_squash'),
  anonuid: z.number().int().min(0).max(2 ** 32 - 1).default(65534),
  anongid: z.number().int().min(0).max(2 ** 32 - 1).default(65534),
  secure: z.boolean().default(false),
});

const webdavUser = z.strictObject({
  name: z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or spaces'),
  'read-only': z.boolean().default(false),
  root: absPath.default('/'),
  // the file-system identity of the user's requests (owner of what they create, permission checks); default root
  uid: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  gid: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  groups: z.array(z.number().int().min(0).max(2 ** 32 - 1)).optional(),
});

const schema = z.strictObject({
  meta: z.strictObject({
    url: z.string().min(1).optional(),
  }).prefault({}),
  'data-dir': absPath.default(DEFAULT_DATA_DIR),
  storage: z.strictObject({
    storage: z.string().min(1).optional(),
    bucket: z.string().min(1).optional(),
    'access-key': z.string().min(1).optional(),
  }).prefault({}),
  cache: z.strictObject({
    /** Default: /var/cache/ferry with the default data-dir, else `<data-dir>/cache` (see cacheDirsOf). */
    dirs: z.array(absPath).min(1).optional(),
    'cache-size': size.prefault(102400),
    'free-space-ratio': z.number().min(0).max(0.9).default(0.1),
    'write-back': z.boolean().default(false),
    'buffer-size': size.prefault(300),
  }).prefault({}),
  nfs: z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('0.0.0.0'),
    port: port.default(2049),
    'mount-port': port.default(20048),
    portmap: z.enum(['own', 'rpcbind', 'none']).default('own'),
    'max-in-flight': z.number().int().min(0).default(256),
    'idle-timeout-sec': z.number().min(0).max(86400).default(360),
    'data-attr-cache-ms': z.number().int().min(0).max(60_000).default(DATA_ATTR_MS),
    exports: z.array(exportSchema).default([{ path: '/', clients: ['*'], access: 'rw', squash: 'root_squash', anonuid: 65534, anongid: 65534, secure: false }]),
  }).prefault({}),
  webdav: z.strictObject({
    enabled: z.boolean().default(true),
    listen: listen.default({ host: '127.0.0.1', port: 8080 }),
    tls: z.strictObject({ cert: absPath.optional(), key: absPath.optional() }).prefault({}),
    'allow-plain-basic-auth': z.boolean().default(false),
    htpasswd: absPath.optional(),
    users: z.array(webdavUser).default([]),
    /** Default: read-write on a loopback listen address without htpasswd, else off. */
    anonymous: z.enum(['off', 'read-only', 'read-write']).optional(),
    'propfind-infinity': z.boolean().default(false),
  }).prefault({}).transform((w) => ({
    ...w,
    anonymous: w.anonymous ?? (isLoopback(w.listen.host) && w.htpasswd === undefined && w.users.length === 0 ? 'read-write' as const : 'off' as const),
  })),
  admin: z.strictObject({
    enabled: z.boolean().default(true),
    listen: listen.default({ host: '127.0.0.1', port: 9567 }),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    pretty: z.boolean().default(false),
  }).prefault({}),
  'shutdown-timeout-sec': z.number().positive().max(3600).default(25),
}).superRefine((c, ctx) => {
  const issue = (path: (string | number)[], message: string): void => { ctx.addIssue({ code: 'custom', path, message }); };
  if (c.nfs.enabled && c.nfs.port === c.nfs['mount-port']) issue(['nfs', 'mount-port'], `must differ from nfs.port (${c.nfs.port})`);
  const seen = new Set<string>();
  c.nfs.exports.forEach((e, i) => {
    if (seen.has(e.path)) issue(['nfs', 'exports', i, 'path'], `"${e.path}" is exported twice`);
    seen.add(e.path);
  });
  if ((c.webdav.tls.cert === undefined) !== (c.webdav.tls.key === undefined)) {
    issue(['webdav', 'tls', c.webdav.tls.cert === undefined ? 'cert' : 'key'], 'tls.cert and tls.key must be set together');
  }
  const loopback = isLoopback(c.webdav.listen.host);
  const usesBasic = c.webdav.htpasswd !== undefined || c.webdav.users.length > 0;
  if (c.webdav.enabled && usesBasic && c.webdav.tls.cert === undefined && !loopback && !c.webdav['allow-plain-basic-auth']) {
    issue(['webdav', 'allow-plain-basic-auth'], 'Basic auth over plain HTTP on a non-loopback address sends passwords in clear: set webdav.tls, or set this to true to accept that');
  }
  if (c.webdav.users.length > 0 && c.webdav.htpasswd === undefined) issue(['webdav', 'htpasswd'], 'webdav.users needs an htpasswd file with their passwords');
  if (c.webdav.enabled && c.webdav.htpasswd === undefined && c.webdav.users.length === 0 && c.webdav.anonymous === 'off') {
    issue(['webdav', 'anonymous'], 'nobody could use WebDAV: set webdav.htpasswd, allow anonymous access, or set webdav.enabled: false');
  }
  const names = new Set<string>();
  c.webdav.users.forEach((u, i) => {
    if (names.has(u.name)) issue(['webdav', 'users', i, 'name'], `user "${u.name}" is listed twice`);
    if ((u.uid === undefined) !== (u.gid === undefined)) issue(['webdav', 'users', i, u.uid === undefined ? 'uid' : 'gid'], 'uid and gid must be set together');
    if (u.groups !== undefined && u.uid === undefined) issue(['webdav', 'users', i, 'groups'], 'groups needs uid and gid');
    names.add(u.name);
  });
  if (c.admin.enabled && c.webdav.enabled && sameListen(c.admin.listen, c.webdav.listen)) issue(['admin', 'listen'], 'must differ from webdav.listen');
});

/**
 * cache.dirs when the file leaves it out: the systemd CacheDirectory with the packaged data-dir;
 * `<data-dir>/cache` with any other data-dir, so a test or hand-started instance keeps all its
 * files in one place and needs no write access to /var/cache.
 */
function defaultCacheDirs(dataDir: string): string[] {
  return [dataDir === DEFAULT_DATA_DIR ? DEFAULT_CACHE_DIR : join(dataDir, 'cache')];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function sameListen(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  return a.port !== 0 && a.port === b.port && (a.host === b.host || a.host === '0.0.0.0' || b.host === '0.0.0.0');
}

type KebabToCamel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<KebabToCamel<T>>}` : S;
type Camelize<T> = T extends readonly (infer E)[] ? Camelize<E>[]
  : T extends object ? { [K in keyof T as K extends string ? KebabToCamel<K> : K]: Camelize<T[K]> } : T;

type Parsed = Camelize<z.output<typeof schema>>;

/** Secrets from the environment; never read from the file and never logged (logger redacts them). */
export interface ConfigSecrets {
  /** META_PASSWORD, else REDIS_PASSWORD: the metadata engine's password, if any. */
  metaPassword?: string;
  /** FERRY_S3_ACCESS_KEY, else AWS_ACCESS_KEY_ID (else storage.access-key from the file). */
  accessKey?: string;
  /** FERRY_S3_SECRET_KEY, else AWS_SECRET_ACCESS_KEY. */
  secretKey?: string;
  /** FERRY_S3_SESSION_TOKEN, else AWS_SESSION_TOKEN. */
  sessionToken?: string;
  /** FERRY_NFS_HANDLE_SECRET: mixed into the NFS file handle MAC; the same on every appliance of the volume. */
  nfsHandleSecret?: string;
}

/** The validated configuration. Sizes are bytes; `meta.url` and `cache.dirs` are always set. */
export type FerryConfig = Omit<Parsed, 'meta' | 'cache'> & {
  meta: { url: string };
  cache: Omit<Parsed['cache'], 'dirs'> & { dirs: string[] };
  secrets: ConfigSecrets;
  /** The file it was read from, or undefined when only defaults were used. */
  source: string | undefined;
};

/** Values from CLI flags; each replaces the file's value before validation. */
export interface ConfigOverrides {
  /** --meta */
  meta?: string | undefined;
  /** --data-dir */
  dataDir?: string | undefined;
  /** --host (the NFS, MOUNT and portmap listeners) */
  host?: string | undefined;
  /** --portmap */
  portmap?: string | undefined;
  /** --admin-listen */
  adminListen?: string | undefined;
  /** --no-admin gives false */
  admin?: boolean | undefined;
  /** --nfs-port */
  nfsPort?: number | undefined;
  /** --mount-port */
  mountPort?: number | undefined;
  /** --webdav-listen */
  webdavListen?: string | undefined;
  /** --no-nfs gives false */
  nfs?: boolean | undefined;
  /** --no-webdav gives false */
  webdav?: boolean | undefined;
}

const OVERRIDE_KEYS: { [K in keyof Required<ConfigOverrides>]: { path: string[]; flag: string } } = {
  meta: { path: ['meta', 'url'], flag: '--meta' },
  dataDir: { path: ['data-dir'], flag: '--data-dir' },
  host: { path: ['nfs', 'host'], flag: '--host' },
  portmap: { path: ['nfs', 'portmap'], flag: '--portmap' },
  adminListen: { path: ['admin', 'listen'], flag: '--admin-listen' },
  admin: { path: ['admin', 'enabled'], flag: '--no-admin' },
  nfsPort: { path: ['nfs', 'port'], flag: '--nfs-port' },
  mountPort: { path: ['nfs', 'mount-port'], flag: '--mount-port' },
  webdavListen: { path: ['webdav', 'listen'], flag: '--webdav-listen' },
  nfs: { path: ['nfs', 'enabled'], flag: '--no-nfs' },
  webdav: { path: ['webdav', 'enabled'], flag: '--no-webdav' },
};

const FORBIDDEN_SECRETS: Record<string, string> = {
  'meta.password': 'set META_PASSWORD (or REDIS_PASSWORD) in the environment instead',
  'storage.secret-key': 'set FERRY_S3_SECRET_KEY (or AWS_SECRET_ACCESS_KEY) in the environment instead',
  'storage.session-token': 'set FERRY_S3_SESSION_TOKEN (or AWS_SESSION_TOKEN) in the environment instead',
  'nfs.handle-secret': 'set FERRY_NFS_HANDLE_SECRET in the environment instead',
};

/**
 * Validates a YAML text (already read) with overrides and environment applied. Throws ConfigError
 * listing every issue; `source` names the file in messages.
 */
export function parseConfig(text: string, source: string, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({ key: '', message: `YAML ${e.code} at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? ''}` })));
  }
  const raw: unknown = dropNulls(doc.toJS()) ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(source, [{ key: '', message: 'the top level must be a mapping of keys' }]);
  const root = raw as Record<string, unknown>;

  const issues: ConfigIssue[] = [];
  for (const [key, hint] of Object.entries(FORBIDDEN_SECRETS)) {
    const [a, b] = key.split('.') as [string, string];
    const section = root[a];
    if (typeof section === 'object' && section !== null && b in section) {
      issues.push({ key, message: `secrets do not belong in the file: ${hint}` });
      delete (section as Record<string, unknown>)[b];
    }
  }

  const fromFlag = new Map<string, string>();
  for (const [name, { path, flag }] of Object.entries(OVERRIDE_KEYS)) {
    const value = overrides[name as keyof ConfigOverrides];
    if (value === undefined) continue;
    setPath(root, path, value);
    fromFlag.set(path.join('.'), flag);
  }

  const result = schema.safeParse(root);
  if (!result.success) {
    for (const i of result.error.issues) {
      const path = i.path.map(String);
      const keys = i.code === 'unrecognized_keys' ? i.keys.map((k) => [...path, k].join('.')) : [path.join('.')];
      for (const key of keys) {
        const flag = fromFlag.get(key);
        const message = i.code === 'unrecognized_keys' ? 'unknown key (see docs/configuration.md)' : i.message;
        issues.push({ key, message: flag !== undefined ? `${message} (set by ${flag})` : message });
      }
    }
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(source, issues);

  const c = camelize(result.data) as Parsed;
  const secrets: ConfigSecrets = {};
  const pick = (...names: string[]): string | undefined => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const metaPassword = pick('META_PASSWORD', 'REDIS_PASSWORD');
  const accessKey = pick('FERRY_S3_ACCESS_KEY', 'AWS_ACCESS_KEY_ID') ?? c.storage.accessKey;
  const secretKey = pick('FERRY_S3_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = pick('FERRY_S3_SESSION_TOKEN', 'AWS_SESSION_TOKEN');
  if (metaPassword !== undefined) secrets.metaPassword = metaPassword;
  if (accessKey !== undefined) secrets.accessKey = accessKey;
  if (secretKey !== undefined) secrets.secretKey = secretKey;
  if (sessionToken !== undefined) secrets.sessionToken = sessionToken;
  const nfsHandleSecret = pick('FERRY_NFS_HANDLE_SECRET');
  if (nfsHandleSecret !== undefined) secrets.nfsHandleSecret = nfsHandleSecret;
  return {
    ...c,
    meta: { url: c.meta.url ?? `sqlite3://${c.dataDir}/meta.db` },
    cache: { ...c.cache, dirs: c.cache.dirs ?? defaultCacheDirs(c.dataDir) },
    secrets,
    source,
  };
}

/**
 * Reads and validates the configuration. Without `path`, /etc/ferry/ferry.yaml is used when it
 * exists and built-in defaults otherwise; an explicit path that cannot be read is an error.
 */
export function loadConfig(path?: string, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (path === undefined && code === 'ENOENT') return { ...parseConfig('', '(defaults)', overrides, env), source: undefined };
    throw new ConfigError(file, [{ key: '', message: `cannot read the file (${code ?? String(err)})` }]);
  }
  return parseConfig(text, file, overrides, env);
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const p of path.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** A key left empty (`meta:` with only comments below it) means "use the default". */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (typeof v !== 'object' || v === null) return v ?? undefined;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
}

function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()), camelize(x)]));
}
