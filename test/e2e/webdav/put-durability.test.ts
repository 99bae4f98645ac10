/**
 * "Acknowledged data is never lost: a completed PUT survives a kill -9 of the server": PUTs of new
 * files (a new file's creation is made durable by the PUT's closing fsync, not before) and of
 * replaced ones, answered, then SIGKILL and a restart on the same volume: every answered PUT reads
 * back byte for byte, on the embedded default and on Redis + s3rver.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type FerryServeProcess, formatRedisS3Volume, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const volumes: [string, () => Promise<string[]>][] = [
  ['the embedded default (SQLite + local objects)', () => Promise.resolve(['--data-dir', tmpDir('ferry-putdur-')])],
  ['Redis + s3rver', async () => ['--meta', (await formatRedisS3Volume()).metaUrl, '--data-dir', tmpDir('ferry-putdur-')]],
];

for (const [what, makeVolume] of volumes) {
  describe(`WebDAV PUT durability across SIGKILL on ${what}`, function () {
    this.timeout(120_000);
    let ferry: FerryServeProcess | undefined;
    after(async () => { await ferry?.stop('SIGKILL'); });

    it('every answered PUT (new, empty, replaced, in a new collection) reads back after kill -9 and restart', async () => {
      const volume = await makeVolume();
      ferry = await startFerryServe({ volume });
      const base = ferry.base;
      assert.equal((await fetch(`${base}/d/`, { method: 'MKCOL' })).status, 201);
      const sizes = [0, 1, 4096, 70_000, 5 << 20];
      const bodies = new Map<string, Buffer>();
      for (let i = 0; i < 40; i++) bodies.set(`/d/f${i}`, randomBytes(sizes[i % sizes.length] ?? 0));
      // concurrent, as clients send them: creations share metadata commits
      await Promise.all([...bodies].map(async ([path, body]) => {
        const res = await fetch(`${base}${path}`, { method: 'PUT', body });
        assert.equal(res.status, 201, `PUT ${path}`);
      }));
      const replaced = randomBytes(3000);
      assert.equal((await fetch(`${base}/d/f1`, { method: 'PUT', body: replaced })).status, 204);
      bodies.set('/d/f1', replaced);

      await ferry.stop('SIGKILL');
      ferry = await startFerryServe({ volume });
      for (const [path, body] of bodies) {
        const res = await fetch(`${ferry.base}${path}`);
        assert.equal(res.status, 200, `GET ${path} after the restart`);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), `${path}: the bytes the PUT was answered for`);
      }
    });
  });
}
