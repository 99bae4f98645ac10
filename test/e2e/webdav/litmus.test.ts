/**
 * Ferry's WebDAV server against Debian's `litmus` (the neon WebDAV conformance suite): a real
 * `ferry serve` process over a fresh volume — the embedded default (SQLite + local blocks) and
 * Redis metadata with blocks on s3rver — litmus run against it, and its per-suite summary lines
 * parsed. Every suite must run and report zero failures; warnings are reported, not hidden.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { S3ObjectStore } from '../../../src/storage/s3.js';
import { type FerryServeProcess, formatRedisS3Volume, startFerryServe } from '../../helpers/ferry-serve.js';
import { s3rverConfig } from '../../helpers/s3-buckets.js';
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

describe('litmus against ferry serve (WebDAV) on the embedded default volume (SQLite + local blocks)', function () {
  this.timeout(300_000);
  let ferry: FerryServeProcess;
  before(async () => {
    ferry = await startFerryServe({ volume: ['--data-dir', tmpDir('ferry-litmus-')] });
  });
  after(async () => {
    await ferry.stop();
  });

  it('every litmus suite (basic, copymove, props, locks, http) runs: 104 of 104 pass', async () => {
    await litmusPasses(ferry.base);
  });
});

describe('litmus against ferry serve (WebDAV) on a Redis + s3rver volume', function () {
  this.timeout(300_000);
  let ferry: FerryServeProcess;
  let bucket: string;
  before(async () => {
    const volume = await formatRedisS3Volume();
    bucket = volume.bucket;
    ferry = await startFerryServe({ volume: ['--meta', volume.metaUrl, '--data-dir', tmpDir('ferry-litmus-')] });
  });
  after(async () => {
    await ferry.stop();
  });

  it('every litmus suite (basic, copymove, props, locks, http) runs: 104 of 104 pass', async () => {
    await litmusPasses(ferry.base);
  });

  it('the volume really is on s3rver: a PUT through WebDAV lands as blocks in its bucket', async () => {
    assert.equal((await fetch(`${ferry.base}/on-s3.bin`, { method: 'PUT', body: randomBytes(300_000) })).status, 201);
    const store = new S3ObjectStore(await s3rverConfig(bucket));
    try {
      let bytes = 0;
      for await (const o of store.list('')) bytes += o.size;
      assert.ok(bytes >= 300_000, `only ${bytes} bytes of objects in the bucket`);
    } finally {
      await store.close();
    }
  });
});
