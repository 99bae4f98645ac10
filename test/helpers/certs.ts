/**
 * Certificates for the TLS tests, made with the openssl CLI (P-256 keys, two days): a self-signed
 * one for 127.0.0.1, or a small CA with a server certificate for 127.0.0.1 and a client
 * certificate signed by it. PEM files in a directory the caller owns.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed certificate for 127.0.0.1 as PEM files in `dir`, named after `cn`. */
export async function selfSigned(dir: string, cn: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  await run('openssl', ['req', '-x509', ...EC_KEY, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]);
  return { cert, key };
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA. */
export async function makePki(dir: string): Promise<Record<'ca' | 'caKey' | 'srv' | 'srvKey' | 'cli' | 'cliKey', string>> {
  const p = (f: string): string => join(dir, f);
  await run('openssl', ['req', '-x509', ...EC_KEY, '-days', '2', '-subj', '/CN=ferry-test-ca', '-keyout', p('ca.key'), '-out', p('ca.crt')]);
  writeFileSync(p('srv.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [who, cn, ext] of [['srv', 'redis', ['-extfile', p('srv.ext')]], ['cli', 'ferry', []]] as const) {
    await run('openssl', ['req', ...EC_KEY, '-subj', `/CN=${cn}`, '-keyout', p(`${who}.key`), '-out', p(`${who}.csr`)]);
    await run('openssl', ['x509', '-req', '-in', p(`${who}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-days', '2', '-out', p(`${who}.crt`), ...ext]);
  }
  return { ca: p('ca.crt'), caKey: p('ca.key'), srv: p('srv.crt'), srvKey: p('srv.key'), cli: p('cli.crt'), cliKey: p('cli.key') };
}
