/**
 * Ferry's WebDAV server against Debian's `litmus` (the neon WebDAV conformance suite): a real
 * `ferry serve` process over a fresh volume — the embedded default (SQLite + local blocks) and
 * Redis metadata with blocks on s3rver — litmus run against it, and its per-suite summary lines
 * parsed. Every suite must run and report zero failures; warnings are reported, not hidden.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type FerryServeProcess, formatRedisS3Volume, startFerryServe } from '../../helpers/ferry-serve.js';
import { tmpDir } from '../../helpers/tmp.js';

const run = promisify(execFile);
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

async function litmusPasses(base: string): Promise<void> {
  const { stdout } = await run('litmus', [`${base}/`], { cwd: tmpDir('ferry-litmus-run-'), maxBuffer: 16 << 20 })
    .catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
  const summaries = parseSummaries(stdout);
  const failedLines = stdout.split('\n').filter((l) => /\bFAIL\b/.test(l));
  let total = 0;
  for (const suite of SUITES) {
    const s = summaries.get(suite);
    assert.ok(s !== undefined, `litmus suite ${suite} did not report a summary:\n${stdout}`);
    assert.equal(s.failed, 0, `litmus ${suite}: ${s.failed} of ${s.run} failed:\n${failedLines.join('\n')}`);
    assert.equal(s.passed, s.run, `litmus ${suite}: ${s.passed} of ${s.run} passed`);
    total += s.passed;
  }
  assert.equal(total, 104, `litmus ran ${total} tests, expected 104:\n${stdout}`);
}

const volumes: [string, () => Promise<string[]>][] = [
  ['the embedded default volume (SQLite + local blocks)', () => Promise.resolve(['--data-dir', tmpDir('ferry-litmus-')])],
  ['a Redis + s3rver volume', async () => ['--meta', await formatRedisS3Volume(), '--data-dir', tmpDir('ferry-litmus-')]],
];

for (const [what, volume] of volumes) {
  describe(`litmus against ferry serve (WebDAV) on ${what}`, function () {
    this.timeout(300_000);
    let ferry: FerryServeProcess;

    before(async () => {
      ferry = await startFerryServe({ volume: await volume() });
    });

    after(async () => {
      await ferry.stop();
    });

    it('every litmus suite (basic, copymove, props, locks, http) runs: 104 of 104 pass', async () => {
      await litmusPasses(ferry.base);
    });
  });
}
