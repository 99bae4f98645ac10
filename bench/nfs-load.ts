/**
 * A small concurrent NFSv3 load generator for bench/nfs.ts: MOUNT, then over several TCP
 * connections CREATE one file each, WRITE it in large UNSTABLE requests with a fixed number in
 * flight across all connections, COMMIT, LOOKUP it again and READ it back; plus the latency of
 * single READs of data the server has just served (its cache). Speaks the wire protocol through
 * test/helpers/nfs3-client.ts (codecs from src/protocols/nfs), never the server code. Figures only.
 */
import { randomBytes } from 'node:crypto';
import { NFS3_OK, FILE_SYNC, UNSTABLE } from '../src/protocols/nfs/nfs3/types.js';
import { Nfs3TestClient } from '../test/helpers/nfs3-client.js';
import { sysCred } from '../test/helpers/rpc-client.js';
import { drive, mbs, MiB, percentile, seconds } from './lib.js';

/** Where the load goes and how much of it. */
export interface LoadOptions {
  nfsPort: number;
  mountPort: number;
  /** The path MOUNT is asked for. */
  exportPath: string;
  /** Bytes written and read in total (a multiple of ioBytes). */
  bytes: number;
  connections: number;
  /** Requests in flight across all connections. */
  inFlight: number;
  /** READ/WRITE size, capped by the server's FSINFO rtmax/wtmax. */
  ioBytes: number;
  /** File name prefix (one file per connection). */
  name: string;
}

export interface LoadFigures {
  writeMBs: number;
  readMBs: number;
  /** The I/O size actually used (after the FSINFO cap). */
  ioBytes: number;
}

const ROOT = sysCred(0, 0);

function check(what: string, status: number): void {
  if (status !== NFS3_OK) throw new Error(`${what}: NFS status ${status}`);
}

/** The root handle of `exportPath` and one connected client per connection. */
async function connect(o: Pick<LoadOptions, 'nfsPort' | 'mountPort' | 'exportPath'>, connections: number): Promise<{ root: Buffer; clients: Nfs3TestClient[] }> {
  const clients: Nfs3TestClient[] = [];
  for (let i = 0; i < connections; i++) clients.push(await Nfs3TestClient.connect(o.nfsPort, ROOT));
  const first = clients[0];
  if (first === undefined) throw new Error('no connection');
  const m = await first.mount(o.mountPort, o.exportPath);
  if (m.fh === undefined) throw new Error(`MOUNT ${o.exportPath}: status ${m.status}`);
  return { root: m.fh, clients };
}

async function closeAll(clients: Nfs3TestClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
}

/** Writes then reads `bytes` spread over one file per connection; answers MB/s of each phase. */
export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  const { root, clients } = await connect(o, o.connections);
  try {
    const first = clients[0] as Nfs3TestClient;
    const info = await first.fsinfo(root);
    check('FSINFO', info.status);
    const io = Math.min(o.ioBytes, info.rtmax ?? o.ioBytes, info.wtmax ?? o.ioBytes);
    const n = Math.floor(o.bytes / io);
    const per = clients.length;
    const payload = randomBytes(io);

    const files: Buffer[] = [];
    for (let c = 0; c < per; c++) {
      const client = clients[c] as Nfs3TestClient;
      const made = await client.create(root, `${o.name}-${c}`, { attrs: { mode: 0o644, size: 0n } });
      check('CREATE', made.status);
      files.push(made.fh ?? await client.fh(root, `${o.name}-${c}`));
    }
    const target = (i: number): { client: Nfs3TestClient; fh: Buffer; offset: number } => ({
      client: clients[i % per] as Nfs3TestClient, fh: files[i % per] as Buffer, offset: Math.floor(i / per) * io,
    });

    const wStart = process.hrtime.bigint();
    await drive(n, o.inFlight, async (i) => {
      const t = target(i);
      const r = await t.client.write(t.fh, t.offset, payload, UNSTABLE);
      check('WRITE', r.status);
      if (r.count !== io) throw new Error(`short WRITE: ${r.count} of ${io}`);
    });
    await Promise.all(files.map(async (fh, c) => check('COMMIT', (await (clients[c] as Nfs3TestClient).commit(fh)).status)));
    const writeSec = seconds(wStart);

    // fresh handles by name, as a client that did not write would get them
    for (let c = 0; c < per; c++) files[c] = await (clients[c] as Nfs3TestClient).fh(root, `${o.name}-${c}`);
    const readSec = await drive(n, o.inFlight, async (i) => {
      const t = target(i);
      const r = await t.client.read(t.fh, t.offset, io);
      check('READ', r.status);
      if (r.data?.length !== io) throw new Error(`short READ at ${t.offset}: ${r.data?.length}`);
    });
    return { writeMBs: mbs(n * io, writeSec), readMBs: mbs(n * io, readSec), ioBytes: io };
  } finally {
    await closeAll(clients);
  }
}

/**
 * Random READs of `ioBytes` at aligned offsets of a `fileBytes` file written (UNSTABLE + COMMIT)
 * and read through once beforehand, so that every READ finds its data in the server's memory or
 * page cache; `inFlight` at a time across `connections`. Answers READs per second.
 */
export async function randomReads(o: Pick<LoadOptions, 'nfsPort' | 'mountPort' | 'exportPath' | 'ioBytes' | 'name' | 'connections' | 'inFlight'> & { fileBytes: number; reads: number }): Promise<number> {
  const { root, clients } = await connect(o, o.connections);
  try {
    const first = clients[0] as Nfs3TestClient;
    const made = await first.create(root, o.name, { attrs: { mode: 0o644, size: 0n } });
    check('CREATE', made.status);
    const fh = made.fh ?? await first.fh(root, o.name);
    const payload = randomBytes(MiB); // laid out and read through in 1 MiB requests
    for (let at = 0; at < o.fileBytes; at += MiB) check('WRITE', (await first.write(fh, at, payload, UNSTABLE)).status);
    check('COMMIT', (await first.commit(fh)).status);
    for (let at = 0; at < o.fileBytes; at += MiB) check('READ', (await first.read(fh, at, MiB)).status);
    const slots = Math.floor(o.fileBytes / o.ioBytes);
    const offsets = Array.from({ length: o.reads }, () => Math.floor(Math.random() * slots) * o.ioBytes);
    const sec = await drive(o.reads, o.inFlight, async (i) => {
      const r = await (clients[i % clients.length] as Nfs3TestClient).read(fh, offsets[i] as number, o.ioBytes);
      check('READ', r.status);
      if (r.data?.length !== o.ioBytes) throw new Error(`short READ: ${r.data?.length}`);
    });
    return o.reads / sec;
  } finally {
    await closeAll(clients);
  }
}

/**
 * Latency of single READs (one in flight) of `ioBytes` cycling over the first `spanBytes` of a new
 * file written FILE_SYNC, after one warming pass over that span; answers milliseconds p50/p99.
 */
export async function cachedReadLatency(o: Pick<LoadOptions, 'nfsPort' | 'mountPort' | 'exportPath' | 'ioBytes' | 'name'> & { spanBytes: number; reads: number }): Promise<{ p50: number; p99: number }> {
  const { root, clients } = await connect(o, 1);
  try {
    const c = clients[0] as Nfs3TestClient;
    const made = await c.create(root, o.name, { attrs: { mode: 0o644, size: 0n } });
    check('CREATE', made.status);
    const fh = made.fh ?? await c.fh(root, o.name);
    const blocks = Math.max(1, Math.floor(o.spanBytes / o.ioBytes));
    const payload = randomBytes(o.ioBytes);
    for (let b = 0; b < blocks; b++) check('WRITE', (await c.write(fh, b * o.ioBytes, payload, FILE_SYNC)).status);
    for (let b = 0; b < blocks; b++) check('READ', (await c.read(fh, b * o.ioBytes, o.ioBytes)).status);
    const ms: number[] = [];
    for (let i = 0; i < o.reads; i++) {
      const start = process.hrtime.bigint();
      const r = await c.read(fh, (i % blocks) * o.ioBytes, o.ioBytes);
      ms.push(seconds(start) * 1000);
      check('READ', r.status);
      if (r.data?.length !== o.ioBytes) throw new Error(`short READ: ${r.data?.length}`);
    }
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  } finally {
    await closeAll(clients);
  }
}
