import { isDiskFull } from '../core/disk-full.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SelectedBackend } from '../backends/backend-registry.js';
import { defaultCacheRoot, featureCacheDir, featureCacheKey, loadFeatureCache, saveFeatureCache } from './feature-cache.js';
import { computeFeatures } from './features.js';
import { computeFeaturesInWorkers } from './feature-pool.js';
import { openForward, type ForwardPlan } from './frozen-forward.js';
import type { Backbone, BackboneSpec } from './models/model-registry.js';
import { createProgress, type ProgressOptions } from '../preprocess/preprocess-progress.js';
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
  cacheDir: string | undefined; log: Logger; signal?: AbortSignal | undefined;
  /**
   * Progress of the extraction, as preprocess shows it: a bar on a terminal, else a line every
   * `intervalS` seconds (Slurm logs: an InceptionV3 extraction runs for minutes to hours).
   */
  progress?: { enabled: boolean; intervalS?: number | undefined; stream?: ProgressOptions['stream'] } | undefined;
  /** Where the forward pass runs (ONNX Runtime or tfjs); default tfjs. */
  plan?: ForwardPlan | undefined;
}): Promise<{ features: Float32Array; report: FeatureCacheReport }> {
  const t0 = performance.now();
  const key = featureCacheKey(await o.source.identity(), o.backbone.identity);
  const dir = featureCacheDir(o.cacheDir ?? defaultCacheRoot(), key);
  const dim = o.backbone.featureDim;
  const found = await loadFeatureCache(dir, key, o.source.count, dim);
  if (found.state === 'damaged') o.log.warn(`features: the cache ${dir} is not usable (${found.reason}); recomputing it`);
  if (found.state === 'hit') {
    // The key was made from the shard checksums as listed; the features stand for the data only
    // if the files still have them. Without this check a dataset damaged after its cache was
    // built would never be read again, so the damage would never be reported.
    const tv = performance.now();
    await o.source.verifyContent();
    const seconds = (performance.now() - t0) / 1000;
    o.log.info(`features: ${o.source.count} x ${dim} read from the cache ${dir} (computed earlier in ${found.meta.seconds.toFixed(1)} s; the source's checksums verified in ${((performance.now() - tv) / 1000).toFixed(1)} s)`);
    return { features: found.features, report: { dir, key, hit: true, seconds, threads: 0, records: o.source.count, dim } };
  }
  const all = Array.from({ length: o.source.count }, (_, i) => i);
  const parallel = o.backend.provider.parallelWorkers && o.threads > 1;
  const threads = parallel ? o.threads : 1;
  const engine = o.plan?.engine ?? o.backend.name;
  o.log.info(`features: computing ${o.source.count} x ${dim} on ${engine} with ${threads} ${parallel ? 'worker threads' : 'thread (in-process)'}`);
  const progress = createProgress({
    total: o.source.count, label: 'features', silent: !(o.progress?.enabled ?? false),
    ...(o.progress?.intervalS !== undefined ? { intervalS: o.progress.intervalS } : {}), ...(o.progress?.stream ? { stream: o.progress.stream } : {}),
  });
  let shown = 0;
  const onProgress = (done: number) => { progress.tick(done - shown); shown = done; };
  let features: Float32Array;
  if (parallel) {
    features = await computeFeaturesInWorkers({
      source: o.source.descriptor, backbone: { ...o.spec, trainable: false }, backend: o.backend.name, onnxFile: o.plan?.onnxFile,
      indices: all, dim, threads, onProgress, signal: o.signal,
    });
  } else {
    const forward = await openForward(o.plan ?? { engine }, o.backbone.model, 1);
    try {
      features = await computeFeatures(forward, o.source, all, o.backend.provider.featureBatchSize, undefined, onProgress);
    } finally {
      await forward.dispose();
    }
  }
  if (!o.signal?.aborted) progress.done();
  // Features of an interrupted extraction are incomplete: never cache them.
  if (o.signal?.aborted) return { features, report: { dir, key, hit: false, seconds: 0, threads, records: o.source.count, dim } };
  const seconds = (performance.now() - t0) / 1000;
  try {
    await saveFeatureCache(dir, features, {
      kind: 'retina-features', version: 1, key, count: o.source.count, dim,
      sourceIdentity: await o.source.identity(), backboneIdentity: o.backbone.identity, seconds, threads, createdAt: new Date().toISOString(),
    });
    o.log.info(`features: ${o.source.count} images in ${seconds.toFixed(1)} s (${(o.source.count / seconds).toFixed(1)} images/s), cached in ${dir}`);
  } catch (err) {
    // The cache only saves time: a full (or unwritable) cache folder must not stop training.
    const why = await isDiskFull(err, dir) ? 'no space left on its device' : messageOf(err);
    o.log.warn(`features: could not store the feature cache in ${dir} (${why}); training without it (free space or set RETINA_CACHE_DIR / --cache-dir to cache next time)`);
  }
  return { features, report: { dir, key, hit: false, seconds, threads, records: o.source.count, dim } };
}
