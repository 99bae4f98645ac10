/**
 * WebDAV locks live in the metadata engine (RFC 4918 §6, issue: "lock state stored in the
 * metadata engine ... so it holds across appliances and restarts"): two `ferry serve` processes on
 * one volume — Redis + s3rver, and a shared SQLite database — see each other's locks, and a lock
 * outlives a restart of the process that granted it.
 */
import assert from 'node:assert/strict';
import { type FerryServeProcess, formatRedisS3Volume, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a</D:owner></D:lockinfo>';

const volumes: [string, () => Promise<string[]>][] = [
  ['a Redis + s3rver volume', async () => ['--meta', (await formatRedisS3Volume()).metaUrl, '--data-dir', tmpDir('ferry-lockvol-')]],
  ['a SQLite volume (the embedded default in one data dir)', () => Promise.resolve(['--data-dir', tmpDir('ferry-lockvol-')])],
];

for (const [what, makeVolume] of volumes) {
  describe(`WebDAV locks across ferry serve processes on ${what}`, function () {
    this.timeout(120_000);
    const running: FerryServeProcess[] = [];
    after(async () => {
      for (const p of running) await p.stop();
    });

    it('LOCK on A, PUT without the token on B is 423; A restarts and the token is still valid on both', async () => {
      const volume = await makeVolume();
      let a = await startFerryServe({ volume });
      running.push(a);
      const b = await startFerryServe({ volume });
      running.push(b);

      assert.equal((await fetch(`${a.base}/f`, { method: 'PUT', body: 'v1' })).status, 201);
      const lock = await fetch(`${a.base}/f`, { method: 'LOCK', headers: { Timeout: 'Second-600' }, body: LOCKINFO });
      assert.equal(lock.status, 200);
      const token = /^<(urn:uuid:[0-9a-f-]+)>$/.exec(lock.headers.get('lock-token') ?? '')?.[1];
      assert.ok(token !== undefined, 'Lock-Token header');

      const onB = await fetch(`${b.base}/f`, { method: 'PUT', body: 'from B' });
      assert.equal(onB.status, 423, 'B enforces the lock A granted');
      assert.match(await onB.text(), /lock-token-submitted/);
      assert.equal((await fetch(`${b.base}/f`, { method: 'LOCK', body: LOCKINFO })).status, 423, 'B refuses a conflicting lock');

      await a.stop();
      a = await startFerryServe({ volume, port: a.port });
      running.push(a);
      assert.equal((await fetch(`${a.base}/f`, { method: 'PUT', body: 'after restart' })).status, 423, 'the restarted A still enforces it');
      const disc = await (await fetch(`${a.base}/f`, {
        method: 'PROPFIND', headers: { Depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
      })).text();
      assert.ok(disc.includes(token), `lockdiscovery after the restart lists the token:\n${disc}`);
      assert.equal((await fetch(`${a.base}/f`, { method: 'PUT', body: 'v2', headers: { If: `(<${token}>)` } })).status, 204);
      const refresh = await fetch(`${a.base}/f`, { method: 'LOCK', headers: { If: `(<${token}>)`, Timeout: 'Second-300' } });
      assert.equal(refresh.status, 200, 'the token refreshes on the restarted process');

      assert.equal((await fetch(`${b.base}/f`, { method: 'UNLOCK', headers: { 'Lock-Token': `<${token}>` } })).status, 204, 'B releases the lock');
      assert.equal((await fetch(`${a.base}/f`, { method: 'PUT', body: 'v3' })).status, 204, 'A sees the release');
      assert.equal(await (await fetch(`${b.base}/f`)).text(), 'v3');
    });
  });
}
