import * as tf from '@tensorflow/tfjs';
import { computeFeatures, FEATURE_CHUNK } from './features.js';
import type { FeaturePool } from './feature-pool.js';
import type { FrozenForward } from './frozen-forward.js';
import { batches } from './loader.js';
import { FORWARD_PREFETCH, pooledEpoch, slices, type ForwardClock } from './pooled-forward.js';
import type { SampleSource } from './sources.js';
import type { Logger } from '../core/log.js';

/** Train one batch: `x` is what the feed's `kind` says, `labels` its grades. Disposes `x`. */
export type Consume = (x: tf.Tensor, labels: Int32Array) => Promise<void>;

/** What an epoch's feeding cost, for the epoch report. */
export interface FeedEpoch {
  /** Time the loop waited for data (reading, decoding, conversion not hidden by prefetch). */
  waitMs: number;
  /** Forward passes of a frozen backbone run by the feed (in-process ONNX Runtime; pool waits). */
  computeMs: number;
  /** The pool's clock (worker threads), when the backbone runs there. */
  clock?: ForwardClock;
  /** Validation features (valIdx order) when the feed has them; else validation runs the full model. */
  valFeatures?: Float32Array;
}

/**
 * How training batches reach the training step, one epoch at a time. Three implementations:
 * cached features (a frozen backbone's pooled features computed once), an in-process feed (images
 * decoded or read here; a frozen backbone's forward in ONNX Runtime here, or left to the step), and
 * a worker pool (the frozen backbone's forward on worker threads, computed ahead). A new engine
 * (e.g. another forward runtime) is one more implementation; the loop in train.ts does not change.
 */
export interface EpochFeed {
  /** `features`: [n, dim] pooled features for the head; `images`: [n, h, w, c] network input. */
  readonly kind: 'features' | 'images';
  /** Forward worker threads (0: in-process). */
  readonly workers: number;
  /** Feed the training records of `order` in batches to `consume`; prepare `valIdx`'s features if it can. */
  epoch(order: readonly number[], valIdx: readonly number[], consume: Consume): Promise<FeedEpoch>;
}

function labelsOf(source: SampleSource, idx: readonly number[]): Int32Array {
  return Int32Array.from(idx, (r) => source.meta(r).label);
}

/** Gather rows `idx` of `features` (count x dim) into one [idx.length, dim] array. */
function gather(features: Float32Array, idx: readonly number[], dim: number): Float32Array {
  const fx = new Float32Array(idx.length * dim);
  idx.forEach((r, i) => fx.set(features.subarray(r * dim, (r + 1) * dim), i * dim));
  return fx;
}

/** Frozen backbone, features computed once (the feature cache): the head trains on them. */
export function cachedFeatureFeed(source: SampleSource, features: Float32Array, dim: number, batchSize: number): EpochFeed {
  return {
    kind: 'features',
    workers: 0,
    async epoch(order, valIdx, consume) {
      let waitMs = 0;
      for (let s = 0; s < order.length; s += batchSize) {
        const tw = performance.now();
        const idx = order.slice(s, s + batchSize);
        const fx = gather(features, idx, dim);
        const labels = labelsOf(source, idx);
        waitMs += performance.now() - tw;
        await consume(tf.tensor2d(fx, [idx.length, dim]), labels);
      }
      return { waitMs, computeMs: 0, valFeatures: gather(features, valIdx, dim) };
    },
  };
}

/**
 * Records read (or decoded) here, `prefetch` batches ahead. With `forward` (a frozen backbone in
 * ONNX Runtime) the feed runs it and yields features; without, it yields images and the step runs
 * the network (fine-tuning, or a frozen tfjs backbone too small for the pool).
 */
export function inProcessFeed(source: SampleSource, batchSize: number, dim: number, forward?: FrozenForward): EpochFeed {
  const [h, w, c] = source.spec.shape as [number, number, number];
  return {
    kind: forward ? 'features' : 'images',
    workers: 0,
    async epoch(order, valIdx, consume) {
      let waitMs = 0, computeMs = 0;
      const it = batches(source, order, batchSize);
      for (;;) {
        const tw = performance.now();
        const next = await it.next();
        waitMs += performance.now() - tw;
        if (next.done) break;
        const b = next.value;
        if (!forward) {
          await consume(tf.tensor4d(b.x, [b.size, h, w, c]), b.labels);
          continue;
        }
        const tf0 = performance.now();
        const fx = await forward.run(b.x, [b.size, h, w, c]);
        computeMs += performance.now() - tf0;
        await consume(tf.tensor2d(fx, [b.size, dim]), b.labels);
      }
      if (!forward) return { waitMs, computeMs };
      const timing = { readMs: 0, forwardMs: 0 };
      const valFeatures = await computeFeatures(forward, source, [...valIdx], FEATURE_CHUNK, timing);
      return { waitMs: waitMs + timing.readMs, computeMs: computeMs + timing.forwardMs, valFeatures };
    },
  };
}

/** The frozen backbone's forward on worker threads, `FORWARD_PREFETCH` batches ahead of the step. */
export function pooledFeed(o: { source: SampleSource; pool: FeaturePool; dim: number; batchSize: number; log: Logger; signal?: AbortSignal | undefined }): EpochFeed {
  return {
    kind: 'features',
    workers: o.pool.threads,
    async epoch(order, valIdx, consume) {
      const r = await pooledEpoch({
        pool: o.pool, train: slices([...order], o.batchSize), val: slices([...valIdx], o.batchSize), dim: o.dim, prefetch: FORWARD_PREFETCH,
        signal: o.signal, log: o.log,
        onTrainBatch: (fx, idx) => consume(tf.tensor2d(fx, [idx.length, o.dim]), labelsOf(o.source, idx)),
      });
      return { waitMs: r.clock.dataMs, computeMs: r.clock.forwardWaitMs, clock: r.clock, valFeatures: r.valFeatures };
    },
  };
}
