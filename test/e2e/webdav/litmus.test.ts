/**
 * Ferry's WebDAV server against Debian's `litmus` (the neon WebDAV conformance suite): a real
 * `ferry serve --no-nfs` process on a free port over a fresh embedded volume, litmus run against
 * it, and its per-suite summary lines parsed. Every suite must run and report zero failures;
 * warnings are reported, not hidden.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/free-port.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const SUITES = ['basic', 'copymove', 'props', 'locks', 'http'];

interface SuiteSummary {
  run: number;
  passed: number;
  failed: number;
}

/** `<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%` per suite. */
function parseSummaries(out: string): Map<string, SuiteSummary> {
  const m = new Map<string, SuiteSummary>();
  for (const s of out.matchAll(/summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g)) {
    m.set(s[1] ?? '', { run: Number(s[2]), passed: Number(s[3]), failed: Number(s[4]) });
  }
  return m;
}

describe('litmus against ferry serve (WebDAV)', function () {
  this.timeout(300_000);
  let proc: ChildProcess;
  let port: number;

  before(async () => {
    port = await freePort();
    const dataDir = tmpDir('ferry-litmus-');
    proc = spawn(process.execPath, [MAIN, 'serve', '--no-nfs', '--webdav-listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer): void => {
        stderr += b.toString();
        if (stderr.includes('WebDAV on')) {
          proc.stderr?.off('data', onData);
          proc.stderr?.resume();
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`ferry serve exited with ${code}: ${stderr}`)));
    });
  });

  after(async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
  });

  it('every litmus suite (basic, copymove, props, locks, http) runs and has no failed test', async () => {
    const { stdout } = await run('litmus', [`http://127.0.0.1:${port}/`], { cwd: tmpDir('ferry-litmus-run-'), maxBuffer: 16 << 20 })
      .catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
    const summaries = parseSummaries(stdout);
    const failedLines = stdout.split('\n').filter((l) => /\bFAIL\b/.test(l));
    for (const suite of SUITES) {
      const s = summaries.get(suite);
      assert.ok(s !== undefined, `litmus suite ${suite} did not report a summary:\n${stdout}`);
      assert.equal(s.failed, 0, `litmus ${suite}: ${s.failed} of ${s.run} failed:\n${failedLines.join('\n')}`);
      assert.equal(s.passed, s.run, `litmus ${suite}: ${s.passed} of ${s.run} passed`);
    }
  });
});
