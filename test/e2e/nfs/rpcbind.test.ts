/**
 * `ferry serve --portmap rpcbind` with Debian's rpcbind, isolated in new network, mount and pid
 * namespaces (rpcbind-netns.sh; needs root and unshare): Ferry registers NFS v3 and MOUNT v1/v3 on
 * TCP (and MOUNT on UDP) with their ports, a libnfs client without port options finds it through
 * rpcbind, and after SIGTERM the registrations are gone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** "100005 3 tcp 32048" lines of `rpcinfo -p` for the programs Ferry registers. */
const ferryMappings = (section: string): string[] =>
  section.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === '100003' || f[0] === '100005')
    .map((f) => f.slice(0, 4).join(' ')).sort();

describe('registration with the system rpcbind (private network namespace)', function () {
  this.timeout(120_000);

  it('registers NFS and MOUNT with their ports, is found by a client without ports, and unregisters on stop', async () => {
    const dir = tmpDir('ferry-rpcbind-');
    const [nfsPort, mountPort] = [32049, 32048];
    const { stdout } = await run('unshare', [
      '--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private',
      join(repoRoot, 'test', 'e2e', 'nfs', 'rpcbind-netns.sh'), join(repoRoot, 'dist', 'src', 'cli', 'main.js'), join(dir, 'data'), String(nfsPort), String(mountPort),
    ], { timeout: 100_000, env: { ...process.env, FERRY_NODE: process.execPath } }); // the Node running the tests, also the shipped one in CI
    const [, serving = '', listed = '', stopped = ''] = stdout.split(/^=== .*$/m);
    assert.deepEqual(ferryMappings(serving), [
      `100003 3 tcp ${nfsPort}`,
      `100005 1 tcp ${mountPort}`, `100005 1 udp ${mountPort}`, `100005 3 tcp ${mountPort}`, `100005 3 udp ${mountPort}`,
    ].sort(), stdout);
    assert.match(listed, /found-through-rpcbind\.txt/, stdout);
    assert.match(stopped, /ferry exit 0/, stdout);
    assert.deepEqual(ferryMappings(stopped), [], stdout);
    assert.match(stopped, /100000\s+2\s+tcp\s+111/, 'rpcbind itself is still registered');
  });
});
