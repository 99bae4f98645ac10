import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SystemdNotifier } from '../../../src/daemon/notify.js';
import { startFakeNotifySocket, type FakeNotifySocket } from '../../helpers/notify-socket.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('systemd notify (sd_notify protocol)', function () {
  let sock: FakeNotifySocket | undefined;
  afterEach(function () { sock?.stop(); sock = undefined; });

  for (const kind of ['path', 'abstract'] as const) {
    it(`sends READY=1, STATUS, STOPPING=1 as datagrams to ${kind === 'path' ? 'a filesystem' : 'an abstract-namespace'} socket`, async function () {
      const address = kind === 'path' ? join(tmpDir(), 'notify.sock') : `@ferry-test-${process.pid}-${Date.now()}`;
      sock = await startFakeNotifySocket(address);
      const n = new SystemdNotifier({ socket: address });
      assert.equal(n.enabled, true);
      n.ready('serving 2 exports');
      n.status('reloading exports');
      n.stopping();
      await sock.waitFor((m) => m.startsWith('STOPPING=1'));
      assert.deepEqual(sock.messages, ['READY=1\nSTATUS=serving 2 exports', 'STATUS=reloading exports', 'STOPPING=1']);
    });
  }

  it('pings WATCHDOG=1 at half of WATCHDOG_USEC and stops pinging on STOPPING=1', async function () {
    const address = `@ferry-test-wd-${process.pid}-${Date.now()}`;
    sock = await startFakeNotifySocket(address);
    const n = new SystemdNotifier({ socket: address, watchdogUsec: '40000' });
    assert.equal(n.watchdogIntervalMs, 20);
    n.startWatchdog();
    await sock.waitFor((m) => m === 'WATCHDOG=1');
    n.stopping();
    await sock.waitFor((m) => m === 'STOPPING=1');
    const afterStop = sock.messages.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sock.messages.length, afterStop, 'no WATCHDOG=1 after STOPPING=1');
  });

  it('ignores a watchdog meant for another process (WATCHDOG_PID)', function () {
    const n = new SystemdNotifier({ socket: '/nonexistent', watchdogUsec: '1000000', watchdogPid: String(process.pid + 1) });
    assert.equal(n.watchdogIntervalMs, undefined);
    assert.equal(new SystemdNotifier({ socket: '/x', watchdogUsec: '1000000', watchdogPid: String(process.pid) }).watchdogIntervalMs, 500);
  });

  it('without NOTIFY_SOCKET every call is a no-op', function () {
    const n = new SystemdNotifier({});
    assert.equal(n.enabled, false);
    n.ready('x');
    n.startWatchdog();
    n.stopping();
  });

  it('a socket nobody listens on makes send() throw with the errno text', function () {
    const n = new SystemdNotifier({ socket: `@ferry-test-nobody-${process.pid}` });
    assert.throws(() => n.ready(), /sendto: Connection refused/);
  });
});
