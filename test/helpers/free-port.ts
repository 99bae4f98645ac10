/**
 * A free TCP port on 127.0.0.1 for a server a test starts later (often in a child process).
 *
 * The port is taken below the kernel's ephemeral range (`ip_local_port_range`): a port the kernel
 * picks for `listen(0)` is one it may also pick as the local port of any outgoing connection (to
 * Redis, s3rver, …) in the moment between this check and the server's own listen, which failed a
 * CI run with EADDRINUSE. Ports below that range are only ever bound on purpose. A port is handed
 * out once per process, so several asked for before any is bound are distinct. Each is checked by
 * binding it briefly on 127.0.0.1 and on the wildcard address (a server listening on all
 * interfaces holds it too).
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const given = new Set<number>();

/** The first port of the kernel's ephemeral range; 32768 when it cannot be read. */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : 32768;
  } catch {
    return 32768;
  }
}

const HIGHEST = ephemeralStart() - 1;

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Where the next search starts: random per process, so concurrent test processes rarely meet. */
let cursor = randomInt(LOWEST, HIGHEST);

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 2000; tries++) {
    const port = cursor;
    cursor = cursor >= HIGHEST ? LOWEST : cursor + 1;
    if (given.has(port)) continue;
    if (await bindable(port, '127.0.0.1') && await bindable(port, '0.0.0.0')) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${LOWEST} and ${HIGHEST}`);
}
