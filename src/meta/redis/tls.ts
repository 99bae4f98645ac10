/**
 * TLS options of a rediss:// connection from the URL's settings (RedisTls): the client
 * certificate and key for mutual TLS, the CA bundle to trust instead of the system's, the name to
 * verify, or no verification at all. Reads the named PEM files; a file that cannot be read is an
 * EINVAL naming the option, never a connection that silently falls back to no client certificate.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Errno, FsError } from '../../util/errno.js';
import type { RedisTarget } from './url.js';

function pem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FsError(Errno.EINVAL, `redis url ${option}=${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** tls.connect options for the target's data connections; undefined without TLS. */
export function redisTlsOptions(target: RedisTarget): ConnectionOptions | undefined {
  const t = target.tls;
  if (t === undefined) return undefined;
  const o: ConnectionOptions = {};
  // SNI carries host names only; an IP address is still verified against the certificate's SANs
  const host = target.address.kind === 'tcp' && isIP(target.address.host) === 0 ? target.address.host : undefined;
  const name = t.serverName ?? host;
  if (name !== undefined) o.servername = name;
  if (t.caFile !== undefined) o.ca = pem('tls-ca-cert-file', t.caFile);
  if (t.certFile !== undefined && t.keyFile !== undefined) {
    o.cert = pem('tls-cert-file', t.certFile);
    o.key = pem('tls-key-file', t.keyFile);
  }
  if (t.skipVerify) o.rejectUnauthorized = false;
  return o;
}
