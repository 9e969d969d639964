/**
 * The study's steps, each a call into the library that does the work: preprocessing
 * (`src/preprocess/run.ts`), reading (`bench/read-formats.ts` over `formats/dataset.ts`, and
 * `src/transform.ts` for the on-the-fly baseline) and training (`src/train/train.ts`). This file
 * only times the calls and keeps their outputs apart.
 */
import { join } from 'node:path';
import { train } from '../train/train.js';
import type { ModelName } from '../train/models/model-registry.js';
import { preprocess } from '../preprocess/run.js';
import type { Logger } from '../core/log.js';
import { readLabelledImages } from '../labelled-images.js';
import { transformImage } from '../transform.js';
import { measureReads, type ReadMode } from './measure-reads.js';
import { datasetSource, measureSourceReads, type ReadHooks, type ReadRates } from './reads.js';
import type { Phase } from './bench-progress.js';

export { prepareUserImages } from './user-images.js';

/**
 * Preprocess the study's images into a fresh single-shard dataset of `format` (uint8 HWC, the
 * default transform at `size`). `seconds` is the whole call (label reading and validation
 * included); `imagesPerSecond` is preprocess's own rate over transform + write.
 */
export async function preprocessDataset(opts: {
  images: string; labels: string; out: string; format: string; size: number; valFraction: number; seed: number;
  threads: number; logger: Logger; signal?: AbortSignal | undefined;
}): Promise<{ seconds: number; imagesPerSecond: number; records: number; splits: { train: number; val: number } }> {
  const t0 = performance.now();
  const r = await preprocess({
    images: opts.images, labels: opts.labels, out: opts.out, format: opts.format,
    transform: { size: opts.size, crop: 'auto', normalize: 'none', dtype: 'uint8' },
    valFraction: opts.valFraction, seed: opts.seed, shard: { index: 0, count: 1 }, threads: opts.threads,
    skipInvalid: false, force: true, logger: opts.logger, progress: false,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, imagesPerSecond: r.imagesPerSecond, records: r.records, splits: r.splits };
}

/** Where a training run's files and its feature cache go: a fresh folder per run, so no run reuses another's cache. */
export function runPaths(runDir: string): { out: string; cacheDir: string } {
  return { out: join(runDir, 'run'), cacheDir: join(runDir, 'feature-cache') };
}

/**
 * The three read patterns over a dataset folder. Warm: `bench/read-formats.ts`'s `measureReads`
 * (one untimed pass, then the median of `passes` timed passes). Cold: one timed pass right after
 * the page cache was dropped, since a warm-up pass would undo the drop.
 */
export async function measureDatasetReads(opts: { dataset: string; batchSize: number; seed: number; cold: boolean; passes?: number } & ReadHooks): Promise<ReadRates> {
  if (opts.cold) {
    const source = await datasetSource(opts.dataset);
    try {
      return await measureSourceReads(source, { batchSize: opts.batchSize, seed: opts.seed, hooks: opts });
    } finally {
      await source.close();
    }
  }
  const pattern = async (phase: Phase, mode: ReadMode): Promise<number> => {
    opts.onPhase(phase);
    await opts.before();
    return (await measureReads(opts.dataset, { mode, batch: opts.batchSize, passes: opts.passes ?? 3, seed: opts.seed })).imagesPerSecond;
  };
  const uint8 = await pattern('read', 'uint8');
  const float = await pattern('read-float', 'float32');
  const random = await pattern('read-random', 'random');
  return { uint8, float, random };
}

/** The image files of the study, in labels order: those the labels CSV lists and the folder holds. */
export async function studyImageFiles(images: string, labels: string): Promise<string[]> {
  return (await readLabelledImages({ images, labels })).items.map((it) => it.file);
}

/** The three read patterns over the JPEGs: each read is a decode + the preprocess transform. */
export async function measureImageReads(opts: { files: readonly string[]; size: number; batchSize: number; seed: number; cold: boolean } & ReadHooks): Promise<ReadRates> {
  const files = opts.files;
  const transform = { size: opts.size, crop: 'auto', normalize: 'none', dtype: 'uint8' } as const;
  const source = {
    count: files.length,
    recordBytes: opts.size * opts.size * 3,
    readInto: async (i: number, target: Uint8Array, offset: number) => target.set(await transformImage(files[i]!, transform), offset),
    close: async () => {},
  };
  // A decode takes milliseconds: one pass is long enough, and more would only lengthen the study.
  return measureSourceReads(source, { batchSize: opts.batchSize, seed: opts.seed, hooks: opts });
}

/** What the study keeps of a training run. */
export interface TrainOutcome {
  seconds: number;
  epochSeconds: number[];
  valAccuracy: number;
  valKappa: number;
  backend: string;
  trainImages: number;
  valImages: number;
}

/**
 * Train once from `source` (a dataset folder, or the JPEGs for `images`) with the trainer's
 * library `train()`, into a fresh run folder with its own feature cache. `seconds` is the whole
 * call: model build, feature extraction (when cached) and every epoch.
 */
export async function trainSource(opts: {
  source: string; dataset?: string | undefined; images: string; labels: string; valFraction: number;
  model: string; epochs: number; batchSize: number; seed: number; size: number; cacheFeatures: boolean;
  runDir: string; threads: number; logger: Logger; signal?: AbortSignal | undefined;
}): Promise<TrainOutcome> {
  const paths = runPaths(opts.runDir);
  const t0 = performance.now();
  const r = await train({
    source: opts.source,
    ...(opts.dataset !== undefined ? { data: opts.dataset } : { images: opts.images, labels: opts.labels, imageSize: opts.size, valFraction: opts.valFraction, splitSeed: opts.seed }),
    model: opts.model as ModelName, epochs: opts.epochs, batchSize: opts.batchSize, seed: opts.seed,
    cacheFeatures: opts.cacheFeatures, cacheDir: paths.cacheDir, out: paths.out, force: true, threads: opts.threads,
    // The study says once that its frozen backbone has random weights (it measures speed).
    logger: opts.logger, progress: false, warnRandomWeights: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    seconds, epochSeconds: r.epochs.map((e) => e.seconds), valAccuracy: r.final.valAccuracy, valKappa: r.final.valKappa,
    backend: r.backend, trainImages: r.trainImages, valImages: r.valImages,
  };
}
