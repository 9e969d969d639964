import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RetinaError } from '../core/errors.js';
import { readBatch } from './loader.js';
import type { BackboneSpec } from './models/model-registry.js';
import type { SampleSource, SourceDescriptor } from './sources.js';
import { tfjsForward, type FrozenForward } from './frozen-forward.js';

/** Records per worker task: the forward pass runs at this batch size (fast enough from 8 on). */
export const FEATURE_CHUNK = 8;

/** Where a feature computation spent its time, in milliseconds of the thread that ran it. */
export interface FeatureTiming {
  /** Reading (and, for images, decoding and transforming) records, then converting them to floats. */
  readMs: number;
  /** The backbone's forward pass, up to the features being in JS memory. */
  forwardMs: number;
}

/**
 * Run a frozen backbone over records `indices` of `source`: [indices.length x dim] features.
 * Batches start at indices[0] and hold `batchSize` records, as `model.predict(x, {batchSize})`
 * splits a training batch, so both give the same numbers. Adds its time to `timing` when given.
 */
export async function computeFeatures(model: tf.LayersModel | FrozenForward, source: SampleSource, indices: readonly number[], batchSize = FEATURE_CHUNK, timing?: FeatureTiming,
  onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  const forward = model instanceof tf.LayersModel ? tfjsForward(model) : model;
  const dim = forward.dim;
  const [h, w, c] = source.spec.shape as [number, number, number];
  const out = new Float32Array(indices.length * dim);
  for (let s = 0; s < indices.length; s += batchSize) {
    const t0 = performance.now();
    const batch = await readBatch(source, indices.slice(s, s + batchSize));
    const t1 = performance.now();
    out.set(await forward.run(batch.x, [batch.size, h, w, c]), s * dim);
    if (timing) {
      timing.readMs += t1 - t0;
      timing.forwardMs += performance.now() - t1;
    }
    onProgress?.(Math.min(indices.length, s + batchSize), indices.length);
  }
  return out;
}

/** A feature-extraction task sent to a worker thread. */
export interface FeatureTask {
  source: SourceDescriptor;
  backbone: BackboneSpec;
  backend: string;
  /** The backbone's ONNX graph: the worker runs it in ONNX Runtime (one intra-op thread) instead of building the tfjs model. */
  onnxFile?: string;
  /** Feature width (needed with `onnxFile`, where no tfjs model tells it). */
  dim?: number;
  indices: number[];
}

/** A worker's answer to a `FeatureTask`: float32 features of its indices, and its time on them. */
export interface FeatureReply extends FeatureTiming {
  features: ArrayBuffer;
}

/**
 * A worker's answer when the task failed with a RetinaError: its fields as data, because an Error
 * crossing threads keeps only name, message and stack (the code and the location would be lost).
 */
export interface FeatureFailure {
  error: { code: string; message: string; location: Record<string, unknown>; hint: string | undefined };
}

/** The compiled worker module (workers cannot load TypeScript sources). */
export function featureWorkerFile(): string {
  const here = new URL('./feature-worker.js', import.meta.url);
  const candidates = import.meta.url.endsWith('.js') ? [here] : [new URL('../../dist/src/train/feature-worker.js', import.meta.url)];
  for (const c of candidates) {
    const path = fileURLToPath(c);
    if (existsSync(path)) return path;
  }
  throw new RetinaError('NOT_FOUND', `The compiled feature worker is missing (looked for ${candidates.map((c) => fileURLToPath(c)).join(', ')})`, {
    hint: 'Run `npm run build` first.',
  });
}
