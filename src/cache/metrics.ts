/**
 * Prometheus meters of the block cache (STYLE.md §8 names: ferry_cache_<what>_<unit>), registered
 * in the Registry the owner passes (never the global default). Several caches may share one
 * registry: each meter is created once and reused. Semantics follow JuiceFS's blockcache_* and
 * staging_* metrics (research (c)) so dashboards translate.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Tier = 'memory' | 'disk' | 'staging';

export interface CacheMetrics {
  hits: Counter<'tier'>;
  hitBytes: Counter<'tier'>;
  misses: Counter;
  missBytes: Counter;
  evictions: Counter<'tier'>;
  corrupt: Counter<'tier'>;
  blocks: Gauge<'tier'>;
  bytes: Gauge<'tier'>;
  stagedBlocks: Gauge;
  stagedBytes: Gauge;
  uploads: Counter;
  uploadErrors: Counter;
}

function reuse<T>(registry: Registry, name: string, make: () => T, isT: (m: unknown) => m is T): T {
  const existing = registry.getSingleMetric(name);
  return isT(existing) ? existing : make();
}

function counter<L extends string = never>(registry: Registry, name: string, help: string, labelNames: L[] = []): Counter<L> {
  return reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }), (m): m is Counter<L> => m instanceof Counter);
}

function gauge<L extends string = never>(registry: Registry, name: string, help: string, labelNames: L[] = []): Gauge<L> {
  return reuse(registry, name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }), (m): m is Gauge<L> => m instanceof Gauge);
}

export function cacheMetrics(registry: Registry): CacheMetrics {
  return {
    hits: counter(registry, 'ferry_cache_hits_total', 'Block reads served by a cache tier', ['tier']),
    hitBytes: counter(registry, 'ferry_cache_hit_bytes_total', 'Bytes served by a cache tier', ['tier']),
    misses: counter(registry, 'ferry_cache_misses_total', 'Block reads that went to the object store'),
    missBytes: counter(registry, 'ferry_cache_miss_bytes_total', 'Bytes read from the object store on a miss'),
    evictions: counter(registry, 'ferry_cache_evictions_total', 'Blocks evicted to respect a size or free-space limit', ['tier']),
    corrupt: counter(registry, 'ferry_cache_corrupt_blocks_total', 'Local block files dropped for a bad checksum, size or footer', ['tier']),
    blocks: gauge(registry, 'ferry_cache_blocks', 'Blocks held by a cache tier', ['tier']),
    bytes: gauge(registry, 'ferry_cache_used_bytes', 'Bytes held by a cache tier (disk: file sizes)', ['tier']),
    stagedBlocks: gauge(registry, 'ferry_cache_staged_blocks', 'Write-back blocks staged on local disk and not uploaded yet'),
    stagedBytes: gauge(registry, 'ferry_cache_staged_bytes', 'Bytes of write-back blocks not uploaded yet'),
    uploads: counter(registry, 'ferry_cache_uploads_total', 'Staged blocks uploaded to the object store'),
    uploadErrors: counter(registry, 'ferry_cache_upload_errors_total', 'Failed upload attempts of staged blocks (each is retried)'),
  };
}
