/**
 * Memory stays flat during WebDAV transfers (issue: "a 1 GiB PUT or GET does not grow RSS by more
 * than the configured buffers"): a child `ferry serve` on the embedded default volume takes a
 * 1 GiB streamed PUT and serves it back by GET; the peak RSS (VmHWM in /proc/PID/status) may grow
 * by at most the buffer budget (cache.buffer-size, 300 MiB by default) over the idle process. The
 * bytes are checked end to end by SHA-256. The figures are printed for the report.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { type FerryServeProcess, startFerryServe } from '../../helpers/ferry-serve.js';

const GiB = 1 << 30;
const CHUNK = 1 << 20;
const BUFFER_BUDGET = 300 * (1 << 20);
const MiB = (n: number): string => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** VmHWM (peak RSS) and VmRSS of a process, bytes. */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

describe('WebDAV memory during a 1 GiB PUT and GET (ferry serve child process)', function () {
  this.timeout(600_000);
  let ferry: FerryServeProcess;
  before(async () => {
    ferry = await startFerryServe();
  });
  after(async () => {
    await ferry.stop();
  });

  it('peak RSS grows by less than the buffer budget, and the bytes come back unchanged', async () => {
    const { port } = ferry;
    // warm up: code paths loaded, first block written and read
    await fetch(`${ferry.base}/warm`, { method: 'PUT', body: randomBytes(8 << 20) });
    await (await fetch(`${ferry.base}/warm`)).arrayBuffer();
    const idle = memoryOf(ferry.pid);

    const pattern = randomBytes(CHUNK);
    const sent = createHash('sha256');
    const putStarted = Date.now();
    const putStatus = await new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, method: 'PUT', path: '/big.bin', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      let i = 0;
      const pump = (): void => {
        while (i < GiB / CHUNK) {
          pattern.writeUInt32LE(i++, 0); // every MiB differs
          sent.update(pattern);
          if (!r.write(pattern)) {
            r.once('drain', pump);
            return;
          }
        }
        r.end();
      };
      pump();
    });
    const putMs = Date.now() - putStarted;
    assert.equal(putStatus, 201);
    const afterPut = memoryOf(ferry.pid);

    const got = createHash('sha256');
    let length = 0;
    const getStarted = Date.now();
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port, method: 'GET', path: '/big.bin', agent: false }, (res) => {
        res.on('data', (b: Buffer) => { got.update(b); length += b.length; });
        res.on('end', () => resolve());
        res.on('error', reject);
      }).on('error', reject).end();
    });
    const getMs = Date.now() - getStarted;
    const afterGet = memoryOf(ferry.pid);
    assert.equal(length, GiB);
    assert.equal(got.digest('hex'), sent.digest('hex'));

    process.stdout.write(`      idle RSS ${MiB(idle.rss)} (peak ${MiB(idle.hwm)}); peak after the PUT ${MiB(afterPut.hwm)} `
      + `(${(1024 / (putMs / 1000)).toFixed(0)} MiB/s), after the GET ${MiB(afterGet.hwm)} (${(1024 / (getMs / 1000)).toFixed(0)} MiB/s)\n`);
    assert.ok(afterPut.hwm - idle.hwm < BUFFER_BUDGET, `the PUT grew peak RSS by ${MiB(afterPut.hwm - idle.hwm)}`);
    assert.ok(afterGet.hwm - idle.hwm < BUFFER_BUDGET, `the GET grew peak RSS by ${MiB(afterGet.hwm - idle.hwm)}`);
  });
});
