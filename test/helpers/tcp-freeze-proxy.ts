/**
 * A TCP proxy on 127.0.0.1 in front of a server (STYLE.md §9: a real network fault, no mock of the
 * server) that can go silent: while frozen, no byte moves in either direction on any connection,
 * old or new, and no connection is closed, as when a partition, a firewall that dropped its state or
 * a hung server leaves TCP connections open with nothing coming back. Thawing lets the bytes held
 * so far through.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface FreezeProxy {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function startFreezeProxy(upstreamPort: number): Promise<FreezeProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const hold = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    if (frozen) s.pause();
  };
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    hold(client);
    hold(upstream);
    // pipe() would resume a paused socket; forward by hand and let pause() hold the bytes back
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b) => client.write(b));
    const end = (): void => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
  return {
    port: addr.port,
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw() {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
