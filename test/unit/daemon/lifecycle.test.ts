import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startFakeNotifySocket, type FakeNotifySocket } from '../../helpers/notify-socket.js';

const CHILD = new URL('../../fixtures/lifecycle-child.js', import.meta.url);

interface Child { proc: ChildProcess; lines: string[]; waitLine(line: string): Promise<void>; exited: Promise<number | null> }

function startChild(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [CHILD.pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const waiters = new Map<string, () => void>();
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    lines.push(l);
    waiters.get(l)?.();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    proc, lines, exited,
    waitLine: (line) => (lines.includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.set(line, resolve))),
  };
}

describe('lifecycle (signals, stop steps, reload hooks)', function () {
  const children: ChildProcess[] = [];
  let sock: FakeNotifySocket | undefined;
  afterEach(function () {
    for (const c of children.splice(0)) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    sock?.stop();
    sock = undefined;
  });

  it('SIGTERM runs the stop steps in registration order, sends STOPPING=1 and exits 0', async function () {
    sock = await startFakeNotifySocket(`@ferry-test-lc-${process.pid}-${Date.now()}`);
    const c = startChild([], { NOTIFY_SOCKET: sock.address });
    children.push(c.proc);
    await c.waitLine('started');
    await sock.waitFor((m) => m.startsWith('READY=1'));
    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 0);
    assert.deepEqual(c.lines.filter((l) => l.startsWith('stop:')), ['stop:accept', 'stop:inflight', 'stop:flush', 'stop:meta']);
    await sock.waitFor((m) => m.startsWith('STOPPING=1'));
  });

  it('SIGINT shuts down the same way', async function () {
    const c = startChild([]);
    children.push(c.proc);
    await c.waitLine('started');
    c.proc.kill('SIGINT');
    assert.equal(await c.exited, 0);
    assert.deepEqual(c.lines.filter((l) => l.startsWith('stop:')), ['stop:accept', 'stop:inflight', 'stop:flush', 'stop:meta']);
  });

  it('a stop step that outlives the shutdown timeout is aborted and the exit code is 1', async function () {
    const c = startChild(['hang']);
    children.push(c.proc);
    await c.waitLine('started');
    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 1);
    assert.deepEqual(c.lines.filter((l) => l.startsWith('stop:')), ['stop:accept', 'stop:inflight', 'stop:aborted']);
  });

  it('SIGHUP runs every reload hook (a failing one does not stop the rest) and the process keeps running', async function () {
    sock = await startFakeNotifySocket(`@ferry-test-hup-${process.pid}-${Date.now()}`);
    const c = startChild([], { NOTIFY_SOCKET: sock.address });
    children.push(c.proc);
    await c.waitLine('started');
    c.proc.kill('SIGHUP');
    await c.waitLine('reload:tls');
    assert.deepEqual(c.lines.filter((l) => l.startsWith('reload:')), ['reload:exports', 'reload:tls']);
    await sock.waitFor((m) => m === 'READY=1\nSTATUS=reloaded');
    assert.ok(sock.messages.includes('RELOADING=1'));
    assert.equal(c.proc.exitCode, null, 'still running after SIGHUP');
    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  });
});
