/**
 * rclone (Debian package) as a real WebDAV client of `ferry serve`: a folder of 1,000 small files
 * (one subfolder) copied up and down through a webdav remote configured by environment variables
 * only (no config file), and `rclone check` comparing contents both ways.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const FILES = 1000;

describe('rclone against ferry serve (WebDAV)', function () {
  this.timeout(300_000);
  let ferry: FerryServeProcess;
  let home: string;

  before(async () => {
    ferry = await startFerryServe();
    home = tmpDir('ferry-rclone-');
  });
  after(async () => {
    await ferry.stop();
  });

  /** rclone with a remote `ferry:` from RCLONE_CONFIG_FERRY_* and a config path that does not exist. */
  async function rclone(...args: string[]): Promise<string> {
    try {
      const { stdout, stderr } = await run('rclone', [...args, '--transfers', '16', '--checkers', '16', '--low-level-retries', '1', '--retries', '1'], {
        env: {
          ...process.env, HOME: home, RCLONE_CONFIG: join(home, 'absent.conf'),
          RCLONE_CONFIG_FERRY_TYPE: 'webdav', RCLONE_CONFIG_FERRY_URL: `${ferry.base}/`, RCLONE_CONFIG_FERRY_VENDOR: 'other',
        },
        maxBuffer: 16 << 20,
      });
      return `${stdout}${stderr}`;
    } catch (err) {
      const e = err as { code?: string | number; stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new Error('rclone is not installed (Debian package rclone; npm test installs it)', { cause: err });
      throw new Error(`rclone ${args.join(' ')} failed (${String(e.code)}):\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
    }
  }

  it(`copies ${FILES} small files up and down, and rclone check finds no difference either way (remote contents, then what came down)`, async () => {
    const src = join(home, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const dir = i % 10 === 0 ? join(src, 'sub') : src;
      writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n${'x'.repeat(i % 97)}`);
    }
    await rclone('copy', src, 'ferry:up');
    const up = await rclone('check', src, 'ferry:up', '--download');
    assert.match(up, new RegExp(`\\b${FILES} matching files`), up);
    assert.match(up, /\b0 differences found/, up);

    const down = join(home, 'down');
    await rclone('copy', 'ferry:up', down);
    const back = await rclone('check', src, down); // local MD5s: what came down is what went up
    assert.match(back, new RegExp(`\\b${FILES} matching files`), back);
    assert.match(back, /\b0 differences found/, back);
  });
});
