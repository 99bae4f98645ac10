/**
 * The vfs test matrix (STYLE.md §5): every row is a real stack opened through openVolume over a
 * formatted BaseMeta, a real ObjectStore (memory or file) and the real block cache, in write-through
 * or write-back mode. Rows for Redis/SQLite engines and s3rver plug in here as more makers.
 */
import { BaseMeta } from '../../src/meta/base.js';
import type { MetaEngine } from '../../src/meta/engine.js';
import { MemoryEngine } from '../../src/meta/memory/engine.js';
import type { Format } from '../../src/meta/types.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { openVolume, type OpenVolumeOptions, type Volume } from '../../src/vfs/open.js';
import type { Vfs } from '../../src/vfs/vfs.js';
import { tmpDir } from '../helpers/tmp.js';

export const BLOCK = 64 * 1024;

export interface RigOptions extends Partial<OpenVolumeOptions> {
  /** Setting fields over the defaults (64 KiB blocks, no trash). */
  setting?: Partial<Format>;
}

export interface Rig {
  name: string;
  vfs: Vfs;
  meta: BaseMeta;
  /** The volume's store as vfs sees it (keys relative to `<Name>/`). */
  store: ObjectStore;
  volume: Volume;
  writeBack: boolean;
  /** Block objects in the store (after uploading staged blocks): key -> size. */
  objects(): Promise<Map<string, number>>;
  /** Waits for background release of deleted data and compactions. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Row {
  name: string;
  writeBack: boolean;
  make(opts?: RigOptions): Promise<Rig>;
}

type StoreKind = 'mem' | 'file';

function row(engine: string, makeEngine: () => MetaEngine, storeKind: StoreKind, writeBack: boolean): Row {
  const name = `${engine} × ${storeKind} store × ${writeBack ? 'write-back' : 'write-through'}`;
  return {
    name,
    writeBack,
    async make(opts: RigOptions = {}): Promise<Rig> {
      const meta = new BaseMeta(makeEngine());
      await meta.format({
        Name: 'vfstest', UUID: '', Storage: storeKind, Bucket: storeKind === 'file' ? `${tmpDir('ferry-vfs-store-')}/` : 'vfs',
        BlockSize: BLOCK / 1024, Compression: 'none', TrashDays: 0, EnableACL: false, ...opts.setting,
      });
      const { setting: _setting, ...volumeOpts } = opts;
      const volume = await openVolume({ meta }, {
        releaseIntervalMs: 0,
        writeBack,
        ...(writeBack ? { cacheDirs: [tmpDir('ferry-vfs-cache-')] } : {}),
        cache: { uploadRetryBaseDelayMs: 1 },
        ...volumeOpts,
      });
      const rig: Rig = {
        name, meta, volume, writeBack, vfs: volume.vfs, store: volume.store,
        async objects() {
          await volume.cache.drain();
          const out = new Map<string, number>();
          for await (const o of volume.store.list('chunks/')) out.set(o.key, o.size);
          return out;
        },
        async settle() {
          await volume.vfs.settle();
          await meta.flushBackground();
          await volume.cache.drain();
        },
        async close() {
          await volume.close();
          await meta.close();
        },
      };
      return rig;
    },
  };
}

/** The rows this branch can run: the memory engine over memory and file stores, both cache modes. */
export const ROWS: Row[] = [
  row('memory meta', () => new MemoryEngine(), 'mem', false),
  row('memory meta', () => new MemoryEngine(), 'file', false),
  row('memory meta', () => new MemoryEngine(), 'mem', true),
  row('memory meta', () => new MemoryEngine(), 'file', true),
];

/** Deterministic bytes: `len` bytes of pattern `seed` (different seeds differ at every offset mod 251). */
export function bytes(len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed * 31 + (i >> 8)) % 251;
  return b;
}
