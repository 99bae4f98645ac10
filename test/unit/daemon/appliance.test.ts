import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAppliance, type Appliance } from '../../../src/daemon/appliance.js';
import { createRegistry } from '../../../src/observability/metrics.js';
import { startFakeNotifySocket, type FakeNotifySocket } from '../../helpers/notify-socket.js';
import { tmpDir } from '../../helpers/tmp.js';

describe('appliance start-up glue (what ferry serve calls)', function () {
  let app: Appliance | undefined;
  let sock: FakeNotifySocket | undefined;
  afterEach(async function () {
    app?.lifecycle.removeSignalHandlers();
    await app?.admin?.close();
    app = undefined;
    sock?.stop();
    sock = undefined;
  });

  it('loads the config with overrides, binds the admin listener, and ready() flips /readyz and sends READY=1', async function () {
    const file = join(tmpDir(), 'ferry.yaml');
    writeFileSync(file, 'admin:\n  listen: 127.0.0.1:0\nlog:\n  level: silent\n');
    sock = await startFakeNotifySocket(`@ferry-test-app-${process.pid}-${Date.now()}`);
    app = await startAppliance({ configPath: file, overrides: { nfs: false }, registry: createRegistry(), env: { NOTIFY_SOCKET: sock.address } });
    assert.equal(app.config.nfs.enabled, false);
    const admin = app.admin;
    assert.ok(admin);
    await sock.waitFor((m) => m === 'STATUS=starting');
    assert.equal((await fetch(`http://127.0.0.1:${admin.port}/readyz`)).status, 503);
    app.ready('serving webdav');
    assert.equal((await fetch(`http://127.0.0.1:${admin.port}/readyz`)).status, 200);
    assert.equal(await sock.waitFor((m) => m.startsWith('READY=1')), 'READY=1\nSTATUS=serving webdav');
  });

  it('an invalid config rejects before anything is bound', async function () {
    const file = join(tmpDir(), 'ferry.yaml');
    writeFileSync(file, 'admin:\n  listen: nowhere\n');
    await assert.rejects(startAppliance({ configPath: file, env: {} }), /admin\.listen/);
  });
});
