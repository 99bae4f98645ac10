/**
 * The daemon's metric decorators over the in-memory engine: every engine transaction is timed by
 * engine and operation, an EAGAIN (changed precondition) counts as a restart while BaseMeta still
 * completes the operation, and everything else passes through unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { instrumentEngine } from '../../../src/daemon/metrics.js';
import { BaseMeta } from '../../../src/meta/base.js';
import type { MknodResult, MknodTxn } from '../../../src/meta/engine.js';
import { MemoryEngine } from '../../../src/meta/memory/engine.js';
import { ROOT_INODE } from '../../../src/meta/types.js';
import { createRegistry } from '../../../src/observability/metrics.js';
import { Errno, FsError } from '../../../src/util/errno.js';
import { ROOT_CREDENTIALS } from '../../../src/vfs/types.js';
import { sample } from '../../helpers/appliance.js';

/** The memory engine, except that its first mknod reports a changed precondition. */
class OnceConflictingEngine extends MemoryEngine {
  conflicts = 1;

  override async doMknod(t: MknodTxn): Promise<MknodResult> {
    if (this.conflicts-- > 0) throw new FsError(Errno.EAGAIN, 'parent changed');
    return super.doMknod(t);
  }
}

describe('daemon metric decorators', function () {
  it('instrumentEngine times transactions by engine and op and counts EAGAIN restarts', async function () {
    const registry = createRegistry();
    const engine = new OnceConflictingEngine();
    const meta = new BaseMeta(instrumentEngine(engine, registry));
    await meta.format({ Name: 'metrics', UUID: randomUUID(), Storage: 'mem', Bucket: 'b', BlockSize: 4096, Compression: 'none', TrashDays: 0, MetaVersion: 1, EnableACL: false });
    const f = await meta.create(ROOT_CREDENTIALS, ROOT_INODE, Buffer.from('f'), 0o644, 0, true);
    assert.equal((await meta.getattr(f.ino)).mode & 0o777, 0o644);
    const text = await registry.metrics();
    assert.equal(sample(text, 'ferry_meta_txn_restarts_total', { engine: 'memory', op: 'mknod' }), 1);
    assert.equal(sample(text, 'ferry_meta_txn_seconds_count', { engine: 'memory', op: 'mknod' }), 2, 'the failed and the repeated transaction');
    assert.ok((sample(text, 'ferry_meta_txn_seconds_count', { engine: 'memory', op: 'getAttr' }) ?? 0) >= 1);
    assert.equal(engine.conflicts, -1);
    await meta.close();
  });
});
