/**
 * Accepted TCP sockets that read into one reused buffer. A net.Server socket allocates a fresh
 * buffer for every read (64 KiB each: 1 MiB of short-lived memory per 1 MiB WRITE), and those
 * allocations are what drives V8's full collections under WRITE load. Node offers reads into a
 * caller's buffer (`onread`) only on sockets built from a handle, so this takes over the
 * listener's accept callback and builds them itself. Relies on net.Server's `_handle.onconnection`
 * (Node 20 and 22); where that is missing it does nothing and the server's own sockets are used.
 * The buffer is shared by every socket: a read is handed over synchronously and the receiver
 * copies what it keeps (RecordDecoder in transient mode) before the next read can land.
 */
import { Socket, type Server, type SocketConstructorOpts } from 'node:net';

/** Large enough that a whole 1 MiB WRITE (header included) can arrive in one read. */
const READ_BUFFER_BYTES = 1024 * 1024 + 64 * 1024;
let shared: Buffer | undefined;

/** What a handle-built socket delivers: the socket, then each chunk read (valid only during the call). */
export interface DirectAccept {
  /** A new connection; returns the function that takes its chunks. */
  accepted(socket: Socket): (chunk: Buffer) => void;
  /** accept(2) failed (EMFILE...); the listener goes on. */
  failed(errno: number): void;
}

interface ListenHandle {
  onconnection?: unknown;
}

/**
 * Makes `server` (listening) hand its connections to `on` instead of emitting 'connection'.
 * Returns false, changing nothing, when this Node does not expose the accept callback.
 */
export function acceptDirect(server: Server, on: DirectAccept): boolean {
  const handle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.onconnection !== 'function') return false;
  handle.onconnection = (err: number, clientHandle: unknown): void => {
    if (err !== 0 && err !== undefined) {
      on.failed(err);
      return;
    }
    const buffer = (shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES));
    let deliver: (chunk: Buffer) => void = () => undefined;
    const opts = {
      handle: clientHandle,
      allowHalfOpen: true,
      readable: true,
      writable: true,
      onread: { buffer, callback: (n: number, buf: Uint8Array): void => deliver(Buffer.from(buf.buffer, buf.byteOffset, n)) },
    };
    const socket = new Socket(opts as SocketConstructorOpts);
    deliver = on.accepted(socket);
  };
  return true;
}
