/**
 * SIGHUP on `ferry serve` re-reads the config file and applies nfs.exports, webdav.htpasswd and
 * webdav.users without dropping connections: an NFS/TCP connection and a keep-alive HTTP
 * connection opened before the reload stay open and see the new rules. A broken file keeps the
 * old rules and the process running.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { NFS3_OK, NFS3ERR_ROFS } from '../../../src/protocols/nfs/nfs3/types.js';
import { adminConfig, nfsConfig, startServeProcess, type AppliancePorts, type RunningAppliance } from '../../helpers/appliance.js';
import { Nfs3TestClient } from '../../helpers/nfs3-client.js';
import { sysCred } from '../../helpers/rpc-client.js';

function configLines(dir: string, ports: AppliancePorts, o: { access: 'rw' | 'ro'; aliceReadOnly: boolean }): string[] {
  return [
    ...nfsConfig(dir, ports, o.access),
    'webdav:',
    `  listen: 127.0.0.1:${ports.webdav}`,
    `  htpasswd: ${join(dir, 'htpasswd')}`,
    '  anonymous: "off"',
    '  users:',
    '    - name: alice',
    `      read-only: ${o.aliceReadOnly}`,
    ...adminConfig(ports),
  ];
}

/** One request on `agent`; `reused` says whether it went over an already open connection. */
function davRequest(agent: Agent, port: number, method: string, path: string, user: string, body?: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, auth: `${user}:secret-${user}` }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ferry serve: SIGHUP reloads exports and WebDAV users without dropping connections', function () {
  this.timeout(60_000);
  let app: RunningAppliance;

  before(async function () {
    app = await startServeProcess({
      config: (dir, ports) => {
        writeFileSync(join(dir, 'htpasswd'), ['alice', 'bob'].map((u) => `${u}:${bcrypt.hashSync(`secret-${u}`, 4)}\n`).join(''));
        return configLines(dir, ports, { access: 'rw', aliceReadOnly: false });
      },
    });
  });

  after(async function () {
    assert.equal(await app.stop(), 0, app.out());
  });

  it('an open NFS connection and a keep-alive HTTP connection survive the reload and follow the new rules', async function () {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const nfs = await Nfs3TestClient.connect(app.ports.nfs, sysCred(0, 0));
    try {
      const localPort = nfs.rpc.localPort;
      const root = (await nfs.mount(app.ports.mount, '/')).fh;
      assert.ok(root);
      assert.equal((await nfs.create(root, 'before')).status, NFS3_OK);
      assert.equal((await davRequest(agent, app.ports.webdav, 'PUT', '/alice-before', 'alice', 'a')).status, 201);

      writeFileSync(app.config, `${configLines(app.dir, app.ports, { access: 'ro', aliceReadOnly: true }).join('\n')}\n`);
      writeFileSync(join(app.dir, 'htpasswd'), `alice:${bcrypt.hashSync('secret-alice', 4)}\n`); // bob is removed
      app.child.kill('SIGHUP');

      let status = NFS3_OK;
      for (let i = 0; i < 100 && status === NFS3_OK; i++) {
        status = (await nfs.create(root, `probe-${i}`)).status;
        if (status === NFS3_OK) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, NFS3ERR_ROFS, 'the export is read-only after the reload');
      assert.equal(nfs.rpc.localPort, localPort);
      assert.equal(nfs.rpc.socket.destroyed, false, 'the NFS connection is still open');
      assert.equal((await nfs.getattr(root)).status, NFS3_OK, 'and still serves reads');

      // The reload hooks run one after another: the WebDAV users may lag the exports a little.
      let put = await davRequest(agent, app.ports.webdav, 'PUT', '/alice-after-0', 'alice', 'a');
      for (let i = 1; i < 100 && put.status === 201; i++) {
        await new Promise((r) => setTimeout(r, 50));
        put = await davRequest(agent, app.ports.webdav, 'PUT', `/alice-after-${i}`, 'alice', 'a');
      }
      assert.equal(put.reused, true, 'the keep-alive connection from before the reload was reused');
      assert.equal(put.status, 403, 'alice is read-only now');
      const get = await davRequest(agent, app.ports.webdav, 'GET', '/alice-before', 'alice');
      assert.deepEqual(get, { status: 200, reused: true });
      assert.equal((await davRequest(agent, app.ports.webdav, 'GET', '/alice-before', 'bob')).status, 401, 'bob left the htpasswd file');
    } finally {
      await nfs.close();
      agent.destroy();
    }
  });

  it('a broken file on SIGHUP keeps the running rules and the process', async function () {
    writeFileSync(app.config, 'nfs:\n  exports: [{ path: relative }]\n');
    const logged = (): number => app.out().split('reload failed; keeping the previous settings').length - 1;
    const before = logged();
    app.child.kill('SIGHUP');
    for (let i = 0; i < 100 && logged() === before; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(logged() > before, `the failed reload is logged: ${app.out()}`);
    assert.equal(app.child.exitCode, null, 'still running');
    assert.equal((await fetch(`http://127.0.0.1:${app.ports.admin}/readyz`)).status, 200);
    const agent = new Agent({ keepAlive: false });
    try {
      assert.equal((await davRequest(agent, app.ports.webdav, 'GET', '/alice-before', 'alice')).status, 200);
      assert.equal((await davRequest(agent, app.ports.webdav, 'PUT', '/x', 'alice', 'a')).status, 403, 'the previous rules still apply');
    } finally {
      agent.destroy();
    }
  });
});
