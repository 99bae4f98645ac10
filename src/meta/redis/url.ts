/**
 * Parses a Redis metadata URL (spec §B.1) into connection settings: `redis://[user:pass@]host:port[/db]`,
 * `rediss://` (TLS), `unix://[user:pass@]/path/to.sock[?db=N]`, and Sentinel
 * `redis://[user:pass@]master,s1[:port],s2:26379[/db]`. A password absent from the URL comes from
 * REDIS_PASSWORD, META_PASSWORD or the file named by META_PASSWORD_FILE. Query options as JuiceFS
 * reads them: `tls-cert-file`, `tls-key-file`, `tls-ca-cert-file`, `insecure-skip-verify`,
 * `tls-server-name` (TLS of rediss://), `db` (unix://), `read-timeout` (alias `read_timeout`, a Go
 * duration such as `30s`: how long a reply may keep the connection silent); any other option is reported in
 * `ignored` so the caller can warn. Pure: no I/O except reading the password file; it never logs
 * (callers log `redactUrl(url)`).
 */
import { readFileSync } from 'node:fs';
import { Errno, FsError } from '../../util/errno.js';
import { parseGoDuration } from '../../util/go-duration.js';
import { urlFlag } from '../../util/url-flag.js';

export interface HostPort {
  host: string;
  port: number;
}

export type RedisAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'sentinel'; masterName: string; sentinels: HostPort[] };

/** TLS settings of a rediss:// URL (paths as given; the engine reads the files). */
export interface RedisTls {
  /** Client certificate (mutual TLS), PEM; needs keyFile. */
  certFile?: string;
  keyFile?: string;
  /** CA certificates to trust instead of the system's, PEM. */
  caFile?: string;
  /** Accept any server certificate (testing only). */
  skipVerify: boolean;
  /** Name checked against the server certificate (and sent as SNI) instead of the host. */
  serverName?: string;
}

export interface RedisTarget {
  address: RedisAddress;
  /** TLS on (rediss://) and its settings; undefined for plain connections. */
  tls: RedisTls | undefined;
  /** Logical database; on Redis Cluster it becomes the `{db}` key prefix instead. */
  db: number;
  username?: string;
  password?: string;
  /** Sentinel's own password (env SENTINEL_PASSWORD), when it differs from the data nodes'. */
  sentinelPassword?: string;
  /** `read-timeout` when the URL sets it, in ms (0 or less: no limit); the engine's default otherwise. */
  readTimeoutMs?: number;
  /** Query options Ferry does not use (JuiceFS client tuning such as max-retry-backoff): the caller warns. */
  ignored: string[];
}

/** Query options of JuiceFS's Redis URLs that Ferry reads. */
const TLS_OPTIONS = ['tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'insecure-skip-verify', 'tls-server-name'] as const;

/** A boolean option; EINVAL when its value is neither true nor false. */
function flag(url: string, name: string, value: string | null): boolean {
  const on = urlFlag(value);
  if (on === undefined) throw bad(url, `${name}=${value ?? ''}: expected true or false`);
  return on;
}

function tlsOf(url: string, params: URLSearchParams): RedisTls {
  const tls: RedisTls = { skipVerify: flag(url, 'insecure-skip-verify', params.get('insecure-skip-verify')) };
  const certFile = params.get('tls-cert-file');
  const keyFile = params.get('tls-key-file');
  if ((certFile === null) !== (keyFile === null)) throw bad(url, 'tls-cert-file and tls-key-file go together');
  if (certFile !== null && keyFile !== null) {
    tls.certFile = certFile;
    tls.keyFile = keyFile;
  }
  const caFile = params.get('tls-ca-cert-file');
  if (caFile !== null) tls.caFile = caFile;
  const serverName = params.get('tls-server-name');
  if (serverName !== null && serverName !== '') tls.serverName = serverName;
  return tls;
}

export const DEFAULT_REDIS_PORT = 6379;
export const DEFAULT_SENTINEL_PORT = 26379;

type Env = Readonly<Record<string, string | undefined>>;

function bad(url: string, why: string): FsError {
  // the URL may hold a password: name only the scheme in the message
  return new FsError(Errno.EINVAL, `invalid redis url (${url.split(':')[0] ?? ''}://...): ${why}`);
}

function parsePort(url: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw bad(url, `port ${JSON.stringify(text)}`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(url, `port ${port}`);
  return port;
}

function parseDb(url: string, text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw bad(url, `database ${JSON.stringify(text)}`);
  return Number(text);
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`; port undefined when absent. */
function splitHostPort(url: string, text: string): { host: string; port: number | undefined } {
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6 !== null) return { host: v6[1] ?? '', port: v6[2] === undefined ? undefined : parsePort(url, v6[2]) };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, port: undefined };
  return { host: text.slice(0, colon), port: parsePort(url, text.slice(colon + 1)) };
}

function passwordFromEnv(env: Env): string | undefined {
  const direct = env['REDIS_PASSWORD'] ?? env['META_PASSWORD'];
  if (direct !== undefined && direct !== '') return direct;
  const file = env['META_PASSWORD_FILE'];
  if (file !== undefined && file !== '') return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  return undefined;
}

/** Parses a metadata URL; throws FsError(EINVAL) for anything malformed. */
export function parseRedisUrl(url: string, env: Env = process.env): RedisTarget {
  const m = /^(redis|rediss|unix):\/\/(.*)$/s.exec(url);
  if (m === null) throw bad(url, 'scheme must be redis://, rediss:// or unix://');
  const scheme = m[1] ?? '';
  let rest = m[2] ?? '';

  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const params = new URLSearchParams(query);

  // userinfo ends at the last '@' (a raw '@' inside a password is tolerated)
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (user !== '') username = user;
    if (colon >= 0) {
      const pass = decodeURIComponent(userinfo.slice(colon + 1));
      if (pass !== '') password = pass;
    }
  }
  password ??= passwordFromEnv(env);

  let address: RedisAddress;
  let db = 0;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad(url, 'unix socket path must be absolute');
    address = { kind: 'unix', path: rest };
    const dbParam = params.get('db');
    if (dbParam !== null) db = parseDb(url, dbParam);
  } else {
    const slash = rest.indexOf('/');
    const hosts = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash + 1);
    if (path !== '') db = parseDb(url, path);
    if (hosts === '') throw bad(url, 'missing host');
    const parts = hosts.split(',');
    if (parts.length === 1) {
      const hp = splitHostPort(url, hosts);
      if (hp.host === '') throw bad(url, 'missing host');
      address = { kind: 'tcp', host: hp.host, port: hp.port ?? DEFAULT_REDIS_PORT };
    } else {
      const masterName = parts[0] ?? '';
      if (masterName === '') throw bad(url, 'missing sentinel master name');
      const addrs = parts.slice(1).map((p) => splitHostPort(url, p));
      if (addrs.some((a) => a.host === '')) throw bad(url, 'empty sentinel address');
      // a sentinel without a port uses the last port given in the list (JuiceFS convention)
      const lastPort = [...addrs].reverse().find((a) => a.port !== undefined)?.port ?? DEFAULT_SENTINEL_PORT;
      address = { kind: 'sentinel', masterName, sentinels: addrs.map((a) => ({ host: a.host, port: a.port ?? lastPort })) };
    }
  }

  const used = new Set<string>(scheme === 'unix' ? ['db'] : []);
  if (scheme === 'rediss') for (const o of TLS_OPTIONS) used.add(o);
  let readTimeoutMs: number | undefined;
  for (const name of ['read-timeout', 'read_timeout']) {
    const v = params.get(name);
    if (v === null) continue;
    used.add(name);
    readTimeoutMs = parseGoDuration(v);
    if (readTimeoutMs === undefined) throw bad(url, `${name}=${v}: expected a duration such as 30s or 500ms`);
    break; // read-timeout wins over its alias, as in JuiceFS
  }
  const ignored = [...new Set(params.keys())].filter((k) => !used.has(k));
  const target: RedisTarget = { address, tls: scheme === 'rediss' ? tlsOf(url, params) : undefined, db, ignored };
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  if (readTimeoutMs !== undefined) target.readTimeoutMs = readTimeoutMs;
  if (address.kind === 'sentinel') {
    const sp = env['SENTINEL_PASSWORD'];
    target.sentinelPassword = sp !== undefined && sp !== '' ? sp : password ?? '';
    if (target.sentinelPassword === '') delete target.sentinelPassword;
  }
  return target;
}
