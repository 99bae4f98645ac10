/**
 * Writing to a Writable with backpressure (STYLE.md §7): write, and when write() returns false,
 * wait for 'drain' before the caller produces more. Every listener added is removed again,
 * whichever of drain / error / close / abort comes first.
 */
import type { Writable } from 'node:stream';

/** The destination closed, failed or was aborted before it accepted the data. */
export class WriteAbortedError extends Error {
  override readonly name = 'WriteAbortedError';
  readonly code = 'WEBDAV_WRITE_ABORTED';
}

/**
 * Writes `chunk`; resolves at once if the stream has room, else when it drains. `written`, when
 * given, runs once the stream is done with `chunk` (written or failed; never when it is not written).
 */
export function writeWithBackpressure(out: Writable, chunk: string | Uint8Array, signal?: AbortSignal, written?: () => void): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(new WriteAbortedError('aborted', { cause: signal.reason }));
  if (out.destroyed || out.writableEnded) return Promise.reject(new WriteAbortedError('destination closed'));
  if (written === undefined ? out.write(chunk) : out.write(chunk, () => written())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new WriteAbortedError('destination failed', { cause: err }));
    };
    const onClose = (): void => {
      cleanup();
      reject(new WriteAbortedError('destination closed'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new WriteAbortedError('aborted', { cause: signal?.reason }));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
