import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { acceptDirect } from '../../../src/protocols/nfs/rpc/tcp-accept.js';

function listening(server: Server): Promise<AddressInfo> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
}

describe('TCP sockets reading into one reused buffer (tcp-accept.ts)', () => {
  it('delivers every byte in order, each read in the same buffer, and the socket still writes and ends', async () => {
    const server = createServer(() => assert.fail('the server must not build its own sockets'));
    const { port } = await listening(server);
    const received: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let serverSide: Socket | undefined;
    const ended = new Promise<void>((resolve) => {
      assert.equal(acceptDirect(server, {
        accepted: (socket) => {
          serverSide = socket;
          socket.on('end', () => {
            socket.end('bye');
            resolve();
          });
          return (chunk) => {
            buffers.add(chunk.buffer);
            received.push(Buffer.from(chunk));
          };
        },
        failed: (errno) => assert.fail(`accept failed: ${errno}`),
      }), true);
    });
    const payload = randomBytes(3 * 1024 * 1024);
    const client = createConnection({ port, host: '127.0.0.1' });
    const reply: Buffer[] = [];
    client.on('data', (b: Buffer) => reply.push(b));
    const closed = new Promise((resolve) => client.on('close', resolve));
    for (let at = 0; at < payload.length; at += 100_000) client.write(payload.subarray(at, at + 100_000));
    client.end();
    await ended;
    await closed;
    server.close();
    assert.ok(serverSide !== undefined);
    assert.ok(received.length > 1, 'several reads');
    assert.equal(buffers.size, 1, 'every read landed in the one shared buffer');
    assert.deepEqual(Buffer.concat(received), payload);
    assert.equal(Buffer.concat(reply).toString(), 'bye');
  });

  it('changes nothing on a server that is not listening (no accept callback yet)', () => {
    assert.equal(acceptDirect(createServer(), { accepted: () => () => undefined, failed: () => undefined }), false);
  });
});
