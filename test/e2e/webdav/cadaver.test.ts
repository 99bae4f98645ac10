/**
 * cadaver (Debian package), the neon-based command-line WebDAV client, driven by a script on its
 * stdin against `ferry serve`: mkcol, put, get, copy, move, lock, propset/propget, unlock, ls,
 * delete, each checked through cadaver's own output and independently over HTTP; a lock taken in
 * one cadaver session outlives it and is enforced (423) for clients without its token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

/** Runs one cadaver session with `commands` (one per line) on stdin; resolves with its output. */
function cadaver(url: string, cwd: string, commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('cadaver', [url], { cwd, env: { ...process.env, HOME: cwd }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cadaver hung:\n${out}`)); }, 60_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error('cadaver is not installed (Debian package cadaver; npm test installs it)') : err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`cadaver exited with ${code}:\n${out}`));
    });
    child.stdin.end(`${[...commands, 'quit'].join('\n')}\n`);
  });
}

describe('cadaver against ferry serve (WebDAV)', function () {
  this.timeout(120_000);
  let ferry: FerryServeProcess;
  let cwd: string;

  before(async () => {
    ferry = await startFerryServe();
    cwd = tmpDir('ferry-cadaver-');
    writeFileSync(join(cwd, 'local.txt'), 'hello from cadaver\n');
  });
  after(async () => {
    await ferry.stop();
  });

  it('a scripted session: mkcol, put, get, copy, move, lock, put under the lock, propset/propget, unlock, ls, delete', async () => {
    const out = await cadaver(`${ferry.base}/`, cwd, [
      'mkcol dir',
      'put local.txt dir/a.txt',
      'get dir/a.txt got.txt',
      'copy dir/a.txt dir/b.txt',
      'move dir/b.txt dir/c.txt',
      'lock dir/c.txt',
      'put local.txt dir/c.txt',
      'propset dir/c.txt colour blue',
      'propget dir/c.txt colour',
      'unlock dir/c.txt',
      'delete dir/a.txt',
      'ls dir',
    ]);
    for (const step of ['Creating `dir\'', 'Uploading local.txt to `/dir/a.txt\'', 'Downloading `/dir/a.txt\'', 'Copying `/dir/a.txt\'',
      'Moving `/dir/b.txt\'', 'Locking `dir/c.txt\'', 'Uploading local.txt to `/dir/c.txt\'', 'Setting property on `dir/c.txt\'',
      'Unlocking `dir/c.txt\'', 'Deleting `dir/a.txt\'', 'Listing collection `/dir/\'']) {
      assert.match(out, new RegExp(`${step.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}[^\\n]*succeeded`), `step "${step}" did not succeed:\n${out}`);
    }
    assert.match(out, /Value of colour is: blue/, out);
    assert.doesNotMatch(out, /failed/i, out);
    assert.equal(readFileSync(join(cwd, 'got.txt'), 'utf8'), 'hello from cadaver\n');
    // the listing after the delete: c.txt only
    const listing = out.slice(out.lastIndexOf('Listing collection'));
    assert.match(listing, /\bc\.txt\s+19\b/, listing);
    assert.doesNotMatch(listing, /\ba\.txt\b|\bb\.txt\b/, listing);

    // the same state seen over plain HTTP
    assert.equal(await (await fetch(`${ferry.base}/dir/c.txt`)).text(), 'hello from cadaver\n');
    assert.equal((await fetch(`${ferry.base}/dir/a.txt`)).status, 404);
    assert.equal((await fetch(`${ferry.base}/dir/b.txt`)).status, 404);
    const props = await (await fetch(`${ferry.base}/dir/c.txt`, {
      method: 'PROPFIND', headers: { Depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
    })).text();
    assert.match(props, /colour[^>]*>blue</, props);
    assert.equal((await fetch(`${ferry.base}/dir/c.txt`, { method: 'PUT', body: 'unlocked again' })).status, 204);
  });

  it('a lock taken in one cadaver session outlives it: PUT without the token is 423, UNLOCK with it frees the file', async () => {
    await cadaver(`${ferry.base}/`, cwd, ['put local.txt held.txt', 'lock held.txt']);
    assert.equal((await fetch(`${ferry.base}/held.txt`, { method: 'PUT', body: 'x' })).status, 423);
    const disc = await (await fetch(`${ferry.base}/held.txt`, {
      method: 'PROPFIND', headers: { Depth: '0' }, body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    })).text();
    const token = /<D:locktoken><D:href>(urn:uuid:[0-9a-f-]+)<\/D:href>/.exec(disc)?.[1];
    assert.ok(token !== undefined, disc);
    assert.equal((await fetch(`${ferry.base}/held.txt`, { method: 'UNLOCK', headers: { 'Lock-Token': `<${token}>` } })).status, 204);
    assert.equal((await fetch(`${ferry.base}/held.txt`, { method: 'PUT', body: 'x' })).status, 204);
  });
});
