/**
 * The volume marker of spec §A/§D.2: when a volume is created, its object prefix must hold nothing
 * but format probes (`testing`, `testing/…`) and empty objects, and the object `juicefs_uuid`
 * (body: the volume UUID as text) is put there, as `juicefs format` does. Keys are relative to the
 * volume prefix `<Name>/`. It never deletes anything but the marker it wrote.
 */
import { logger } from '../observability/logger.js';
import { Errno, FsError } from '../util/errno.js';
import type { ObjectStore } from './object-store.js';

/** Key of the marker, relative to `<Name>/`. */
export const VOLUME_MARKER_KEY = 'juicefs_uuid';

const log = logger.child({ module: 'storage' });

/**
 * Checks that the prefix holds no data (EEXIST otherwise: another volume's objects) and puts the
 * marker. As JuiceFS: a failed listing or marker put is logged, not fatal (the store may not allow
 * listing); call removeVolumeMarker when creating the volume's metadata fails afterwards.
 */
export async function putVolumeMarker(store: ObjectStore, uuid: string, signal?: AbortSignal): Promise<void> {
  try {
    for await (const o of store.list('', signal === undefined ? {} : { signal })) {
      if (o.size === 0 || o.key === 'testing' || o.key.startsWith('testing/')) continue;
      throw new FsError(Errno.EEXIST, `storage ${store.description} is not empty (found ${o.key}); clean it up or pick another volume name`);
    }
  } catch (err) {
    if (err instanceof FsError && err.errno === Errno.EEXIST) throw err;
    log.warn({ err, store: store.description }, 'cannot list the object store to check that it is empty');
  }
  try {
    await store.put(VOLUME_MARKER_KEY, Buffer.from(uuid, 'utf8'), signal);
  } catch (err) {
    log.warn({ err, store: store.description }, `cannot put the ${VOLUME_MARKER_KEY} object`);
  }
}

/** Deletes the marker again (a format that failed after putVolumeMarker); failures are logged. */
export async function removeVolumeMarker(store: ObjectStore): Promise<void> {
  await store.delete(VOLUME_MARKER_KEY).catch((err: unknown) => log.warn({ err, store: store.description }, `cannot delete the ${VOLUME_MARKER_KEY} object`));
}
