/**
 * A reference peer for bench:webdav's small PUTs (`node durable-put-peer.js PORT DIR`): the least a
 * server must do before it may answer a PUT when the bytes have to survive a power loss, and no
 * more. Each PUT body is written to a new file that is fsynced, then the directory is fsynced;
 * MKCOL is mkdir. No WebDAV, no metadata, no locks, no checks. Apache mod_dav_fs answers a PUT
 * without any fsync, so this peer shows what the durability Ferry promises costs on this machine.
 */
import { closeSync, fsync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

const fsyncFd = promisify(fsync);
const [portArg, root] = process.argv.slice(2);
if (portArg === undefined || root === undefined) throw new Error('usage: durable-put-peer PORT DIR');

const server = createServer((req, res) => {
  const answer = (status: number): void => {
    res.writeHead(status, { 'content-length': '0' });
    res.end();
  };
  const path = join(root, decodeURIComponent(req.url ?? '/'));
  if (req.method === 'MKCOL') {
    mkdirSync(path, { recursive: true });
    req.resume();
    answer(201);
    return;
  }
  if (req.method !== 'PUT') {
    req.resume();
    answer(405);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const fd = openSync(path, 'w', 0o644);
      try {
        const body = Buffer.concat(chunks);
        for (let done = 0; done < body.length;) done += writeSync(fd, body, done, body.length - done, done);
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
      const dir = openSync(join(path, '..'), 'r');
      try {
        await fsyncFd(dir);
      } finally {
        closeSync(dir);
      }
      answer(201);
    })().catch(() => answer(500));
  });
});
server.listen(Number(portArg), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
