import type { Logger } from '../core/log.js';
import type { FeatureCacheReport } from './cached-features.js';
import type { BackboneWeights, ModelName } from './models/model-registry.js';
import type { SourceOptions } from './source-options.js';

/** The options, per-epoch figures and result of `train()` (the `retina train --json` contract). */

export interface TrainOptions extends SourceOptions {
  model?: ModelName;
  /** The backbone's weights: Keras' InceptionV3 .h5 (e.g. the ImageNet file) or a tfjs layers model.json. */
  weights?: string;
  /**
   * Warn when a frozen backbone has random weights (default true). A caller that trains many times
   * on purpose with random weights (the formats bench, which measures speed) says it once itself.
   */
  warnRandomWeights?: boolean;
  /** Train every layer (default: frozen backbone, new head only). */
  fineTune?: boolean;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  backend?: string;
  /** Run folder; default ./runs/<time>-<model>-<source>. */
  out?: string;
  /** Overwrite a run folder that already holds a finished run. */
  force?: boolean;
  /** Train the head on cached backbone features (default: on when the backbone is frozen). */
  cacheFeatures?: boolean;
  /** Feature cache root (default: $RETINA_CACHE_DIR or ~/.cache/retina). */
  cacheDir?: string;
  /**
   * Without the cache, run the frozen backbone's forward pass on worker threads (default: when
   * there are 2+ threads and the backbone has at least `POOL_MIN_PARAMS` parameters).
   */
  poolForward?: boolean;
  /**
   * Worker threads for the frozen backbone's forward pass: the feature cache's extraction, or,
   * without the cache, every epoch's (default: usable CPUs; 1 keeps the forward pass in-process).
   */
  threads?: number;
  /** Images per gradient computation when fine-tuning (gradients are accumulated to --batch-size). */
  microBatch?: number;
  logger?: Logger;
  /**
   * Show progress on stderr: bars on a terminal; otherwise feature extraction prints a line every
   * `progressIntervalS` seconds (Slurm logs), as preprocess does (epochs log one line each anyway).
   */
  progress?: boolean;
  /** Seconds between progress lines when stderr is not a terminal (default 10). */
  progressIntervalS?: number;
  /** Stop (SIGINT/SIGTERM) at the next batch: throws ABORTED; no model or summary is written. */
  signal?: AbortSignal;
}

/** One epoch's figures (the `--json` contract's `epochs[]`). */
export interface EpochReport {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  valKappa: number;
  /** confusion[actual][predicted] on the validation split. */
  confusion: number[][];
  seconds: number;
  /**
   * Time the training loop waited for data: reading, decoding, converting to floats not hidden by prefetch.
   * With the backbone in worker threads (`forwardWorkers` > 0) the loop waits for features, and
   * each wait counts here in proportion of the workers' reading time for that batch (the rest of
   * it goes to `computeSeconds`); see `ForwardClock`.
   */
  dataWaitSeconds: number;
  /**
   * Time in forward/backward passes (training and validation). With `forwardWorkers` > 0: the
   * head's steps and validation in this thread, plus the forward share of the waits for features.
   */
  computeSeconds: number;
  /** Training images per second of this epoch. */
  imagesPerSecond: number;
  /** Worker threads that ran the backbone's forward pass this epoch (0: this thread, or cached features). */
  forwardWorkers: number;
  /** Time the training loop was blocked waiting for the workers' features (0 without workers). */
  featureWaitSeconds: number;
  /** Worker thread-seconds reading, decoding and converting records to floats (summed over workers; 0 without workers). */
  workerReadSeconds: number;
  /** Worker thread-seconds in the backbone's forward pass (summed over workers; 0 without workers). */
  workerForwardSeconds: number;
}

/** What `retina train --json` prints. */
export interface TrainResult {
  epochs: EpochReport[];
  final: { valAccuracy: number; valKappa: number; valLoss: number; confusion: number[][] };
  /** Training images x epochs over the training time, feature extraction included. */
  imagesPerSecond: number;
  out: string;
  model: ModelName;
  source: string;
  backend: string;
  fineTune: boolean;
  /** "random" (the seeded init: frozen, its features carry no image knowledge) or the file and its checksum. */
  backboneWeights: BackboneWeights;
  /** Rows of the labels file left out by --skip-invalid (--source images), and where they are listed. */
  rejected: number;
  rejectsFile: string | null;
  params: number;
  trainImages: number;
  valImages: number;
  featureCache: FeatureCacheReport | null;
  timing: { setupSeconds: number; featureSeconds: number; epochSeconds: number; totalSeconds: number };
}
