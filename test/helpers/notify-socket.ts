/**
 * A fake systemd notify socket: a unix datagram socket (a path, or '@name' in the abstract
 * namespace) bound by a small python3 process, since Node cannot bind one. Every datagram
 * received is collected; stop() kills the receiver by PID. Importing it also builds the notify
 * addon (scripts/build-native.sh) when only `tsc` was run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const repo = new URL('../../../', import.meta.url).pathname;
if (!existsSync(`${repo}dist/native/ferry.node`)) execFileSync('sh', [`${repo}scripts/build-native.sh`], { stdio: 'inherit' });

const RECEIVER = `
import socket, sys, json
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode('utf-8')), flush=True)
`;

export interface FakeNotifySocket {
  /** The value for NOTIFY_SOCKET. */
  address: string;
  /** Every datagram received so far, in order. */
  messages: string[];
  /** Resolves with the first datagram (counting those already received) that satisfies pred. */
  waitFor(pred: (msg: string) => boolean): Promise<string>;
  stop(): void;
}

export async function startFakeNotifySocket(address: string): Promise<FakeNotifySocket> {
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  const waiters: { pred: (m: string) => boolean; resolve: (m: string) => void }[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify receiver exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'bound') return resolve();
      const msg = JSON.parse(line) as string;
      messages.push(msg);
      for (const w of waiters.splice(0)) {
        if (w.pred(msg)) w.resolve(msg);
        else waiters.push(w);
      }
    });
  });
  return {
    address,
    messages,
    waitFor(pred) {
      const found = messages.find(pred);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    stop() {
      child.removeAllListeners('exit');
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    },
  };
}
