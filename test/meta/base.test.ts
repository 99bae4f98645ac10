/**
 * BaseMeta behaviour that is not engine conformance: the access log, id batching against the
 * engine, and background data release that logs failures instead of failing the unlink.
 * Runs over the in-memory engine (a real engine, not a mock).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/observability/logger.js';
import { BaseMeta } from '../../src/meta/base.js';
import type { IdKind } from '../../src/meta/engine.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import { ROOT_INODE } from '../../src/meta/types.js';
import { ROOT, n, rejects, volume, write } from './conformance/helpers.js';
import { Errno } from '../../src/util/errno.js';

/** A real MemoryEngine that also records how ids are reserved. */
class CountingEngine extends MemoryEngine {
  readonly reservations: [IdKind, number][] = [];
  override async allocateIds(kind: IdKind, count: number): Promise<bigint> {
    this.reservations.push([kind, count]);
    return super.allocateIds(kind, count);
  }
}

function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const logger: Logger = pino<never>({ level: 'debug' }, sink);
  return { logger, lines };
}

describe('BaseMeta (over the memory engine)', () => {
  it('writes one debug access-log line per operation, with the errno when it fails', async () => {
    const { logger, lines } = capture();
    const meta = new BaseMeta(new MemoryEngine(), { logger });
    await meta.format(volume());
    lines.length = 0;
    const f = await meta.create(ROOT, ROOT_INODE, n('café'), 0o644, 0, true);
    await rejects(meta.lookup(ROOT, ROOT_INODE, n('missing')), Errno.ENOENT);
    await meta.getattr(f.ino);
    await new Promise((r) => setImmediate(r));
    const ops = lines.filter((l) => l['msg'] === l['op']);
    assert.deepEqual(ops.map((l) => l['op']), ['create', 'lookup', 'getattr']);
    assert.equal(ops[0]?.['name'], 'café');
    assert.equal(ops[0]?.['errno'], undefined);
    assert.equal(ops[1]?.['errno'], 'ENOENT');
    assert.equal(ops[2]?.['ino'], String(f.ino));
    assert.ok(ops.every((l) => typeof l['ms'] === 'number' && l['module'] === 'meta' && l['engine'] === 'memory'));
  });

  it('reserves inode and slice ids from the engine in batches and hands them out locally', async () => {
    const engine = new CountingEngine();
    const meta = new BaseMeta(engine, { inodeBatch: 4, sliceBatch: 8 });
    await meta.format(volume());
    const inos = [];
    for (let i = 0; i < 10; i++) inos.push((await meta.create(ROOT, ROOT_INODE, n(`f${i}`), 0o644, 0, true)).ino);
    assert.deepEqual(inos, [2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n]);
    const slices = [];
    for (let i = 0; i < 9; i++) slices.push(await meta.newSliceId());
    assert.deepEqual(slices, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    assert.deepEqual(engine.reservations, [['inode', 4], ['inode', 4], ['inode', 4], ['slice', 8], ['slice', 8]]);
  });

  it('a failing slice deleter is logged; the unlink succeeds and the file stays queued', async () => {
    const { logger, lines } = capture();
    const meta = new BaseMeta(new MemoryEngine(), { logger });
    await meta.format(volume());
    meta.onDeleteSlice(async () => { throw new Error('object store down'); });
    const f = await meta.create(ROOT, ROOT_INODE, n('f'), 0o644, 0, true);
    await write(meta, f.ino, 0, 100);
    await meta.unlink(ROOT, ROOT_INODE, n('f'));
    await meta.flushBackground();
    await new Promise((r) => setImmediate(r));
    assert.ok(lines.some((l) => l['msg'] === 'background job failed' && l['level'] === 50));
    assert.deepEqual((await meta.delFiles()).map((d) => d.ino), [f.ino]);
  });
});
