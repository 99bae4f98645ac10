/** The volume marker at format time (spec §A, §D.2): empty prefix check and the juicefs_uuid object. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemoryObjectStore } from '../../src/storage/memory.js';
import { createObjectStore } from '../../src/storage/open.js';
import { VOLUME_MARKER_KEY, putVolumeMarker, removeVolumeMarker } from '../../src/storage/volume-marker.js';
import { Errno, isFsError } from '../../src/util/errno.js';
import { tmpDir } from '../helpers/tmp.js';

const UUID = '3f0e8a52-4c1d-4b6e-9a57-0d2b8c1e4f60';

describe('volume marker', function () {
  it('puts juicefs_uuid with the UUID text at <bucket><name>/ of a file store', async function () {
    const dir = `${tmpDir('ferry-marker-')}/`;
    const store = createObjectStore({ storage: 'file', bucket: dir, name: 'vol' });
    await putVolumeMarker(store, UUID);
    assert.equal(readFileSync(`${dir}vol/juicefs_uuid`, 'utf8'), UUID);
    await removeVolumeMarker(store);
    await assert.rejects(store.get(VOLUME_MARKER_KEY), (err: unknown) => isFsError(err, Errno.ENOENT));
    await store.close();
  });

  it('ignores format probes and empty objects, and refuses a prefix holding data with EEXIST', async function () {
    const store = new MemoryObjectStore();
    await store.put('testing', Buffer.from('probe'));
    await store.put('testing/probe-1', Buffer.from('probe'));
    await store.put('empty', Buffer.alloc(0));
    await putVolumeMarker(store, UUID);
    assert.equal((await store.get(VOLUME_MARKER_KEY)).toString(), UUID);
    const other = new MemoryObjectStore();
    await other.put('chunks/0/0/1_0_10', Buffer.alloc(10));
    await assert.rejects(putVolumeMarker(other, UUID), (err: unknown) => isFsError(err, Errno.EEXIST));
    await assert.rejects(other.get(VOLUME_MARKER_KEY), (err: unknown) => isFsError(err, Errno.ENOENT), 'no marker on refusal');
  });
});
