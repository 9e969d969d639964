import type { Logger } from '../core/log.js';
import type { SelectedBackend } from '../backends/backend-registry.js';
import { defaultCacheRoot, featureCacheDir, featureCacheKey, loadFeatureCache, saveFeatureCache } from './feature-cache.js';
import { computeFeatures } from './features.js';
import { computeFeaturesInWorkers } from './feature-pool.js';
import type { Backbone, BackboneSpec } from './models/model-registry.js';
import type { ProgressBar } from './train-progress.js';
import type { SampleSource } from './sources.js';

/** How the features were obtained (in `TrainResult.featureCache`). */
export interface FeatureCacheReport {
  dir: string;
  key: string;
  /** True when they were read from an earlier run's cache. */
  hit: boolean;
  /** Seconds to compute (or load) them. */
  seconds: number;
  /** Worker threads used (1 = in-process). */
  threads: number;
  records: number;
  dim: number;
}

/**
 * Features of every record of `source` from the cache, or computed (worker threads when the
 * backend pays for it, else in-process) and stored for the next run.
 */
export async function cachedFeatures(o: {
  source: SampleSource; backbone: Backbone; spec: BackboneSpec; backend: SelectedBackend; threads: number;
  cacheDir: string | undefined; log: Logger; bar: ProgressBar; signal?: AbortSignal | undefined;
}): Promise<{ features: Float32Array; report: FeatureCacheReport }> {
  const t0 = performance.now();
  const key = featureCacheKey(await o.source.identity(), o.backbone.identity);
  const dir = featureCacheDir(o.cacheDir ?? defaultCacheRoot(), key);
  const dim = o.backbone.featureDim;
  const hit = await loadFeatureCache(dir, key, o.source.count, dim);
  if (hit) {
    const seconds = (performance.now() - t0) / 1000;
    o.log.info(`features: ${o.source.count} x ${dim} read from the cache ${dir} (computed earlier in ${hit.meta.seconds.toFixed(1)} s)`);
    return { features: hit.features, report: { dir, key, hit: true, seconds, threads: 0, records: o.source.count, dim } };
  }
  const all = Array.from({ length: o.source.count }, (_, i) => i);
  const parallel = o.backend.provider.parallelWorkers && o.threads > 1;
  const threads = parallel ? o.threads : 1;
  o.log.info(`features: computing ${o.source.count} x ${dim} with ${threads} ${parallel ? 'worker threads' : 'thread (in-process)'}`);
  const features = parallel
    ? await computeFeaturesInWorkers({
      source: o.source.descriptor, backbone: { ...o.spec, trainable: false }, backend: o.backend.name,
      indices: all, dim, threads, onProgress: (d, t) => o.bar.update(d, t, 'features'), signal: o.signal,
    })
    : await computeFeatures(o.backbone.model, o.source, all, o.backend.provider.featureBatchSize);
  o.bar.clear();
  // Features of an interrupted extraction are incomplete: never cache them.
  if (o.signal?.aborted) return { features, report: { dir, key, hit: false, seconds: 0, threads, records: o.source.count, dim } };
  const seconds = (performance.now() - t0) / 1000;
  await saveFeatureCache(dir, features, {
    kind: 'retina-features', version: 1, key, count: o.source.count, dim,
    sourceIdentity: await o.source.identity(), backboneIdentity: o.backbone.identity, seconds, threads, createdAt: new Date().toISOString(),
  });
  o.log.info(`features: ${o.source.count} images in ${seconds.toFixed(1)} s (${(o.source.count / seconds).toFixed(1)} images/s), cached in ${dir}`);
  return { features, report: { dir, key, hit: false, seconds, threads, records: o.source.count, dim } };
}
