import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { RetinaError } from '../errors.js';
import { mapLimit } from '../concurrency.js';
import { readBatch } from './loader.js';
import type { BackboneSpec } from './models/registry.js';
import type { SampleSource, SourceDescriptor } from './sources.js';

/** Records per worker task: the forward pass runs at this batch size (fast enough from 8 on). */
export const FEATURE_CHUNK = 8;

/** Run a frozen backbone over records `indices` of `source`: [indices.length x dim] features. */
export async function computeFeatures(model: tf.LayersModel, source: SampleSource, indices: readonly number[], batchSize = FEATURE_CHUNK): Promise<Float32Array> {
  const dim = model.outputs[0]!.shape[1] as number;
  const [h, w, c] = source.spec.shape as [number, number, number];
  const out = new Float32Array(indices.length * dim);
  for (let s = 0; s < indices.length; s += batchSize) {
    const batch = await readBatch(source, indices.slice(s, s + batchSize));
    const y = tf.tidy(() => model.predict(tf.tensor4d(batch.x, [batch.size, h, w, c])) as tf.Tensor);
    out.set(await y.data() as Float32Array, s * dim);
    y.dispose();
  }
  return out;
}

/** A feature-extraction task sent to a worker thread. */
export interface FeatureTask {
  source: SourceDescriptor;
  backbone: BackboneSpec;
  backend: string;
  indices: number[];
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

/**
 * Features of `indices` computed by `threads` worker threads, each with its own tfjs instance
 * and its own copy of the backbone (rebuilt from `spec`: seeded weights are identical in every
 * thread, loaded weights come from the same file).
 */
export async function computeFeaturesInWorkers(opts: {
  source: SourceDescriptor;
  backbone: BackboneSpec;
  backend: string;
  indices: readonly number[];
  dim: number;
  threads: number;
  onProgress?: (done: number, total: number) => void;
  /** Stop handing out chunks once aborted (chunks in flight finish); the result is then partial. */
  signal?: AbortSignal | undefined;
}): Promise<Float32Array> {
  const pool = new Piscina({ filename: featureWorkerFile(), minThreads: opts.threads, maxThreads: opts.threads, idleTimeout: 1000 });
  const out = new Float32Array(opts.indices.length * opts.dim);
  const chunks: number[] = [];
  for (let s = 0; s < opts.indices.length; s += FEATURE_CHUNK) chunks.push(s);
  let done = 0;
  try {
    await mapLimit(chunks, opts.threads * 2, async (start) => {
      if (opts.signal?.aborted) return;
      const indices = opts.indices.slice(start, start + FEATURE_CHUNK);
      const task: FeatureTask = { source: opts.source, backbone: opts.backbone, backend: opts.backend, indices };
      const result: unknown = await pool.run(task);
      if (!(result instanceof ArrayBuffer) || result.byteLength !== indices.length * opts.dim * 4) {
        throw new RetinaError('EXTERNAL', `A feature worker returned ${result instanceof ArrayBuffer ? `${result.byteLength} bytes` : typeof result}, expected ${indices.length * opts.dim * 4} bytes`);
      }
      out.set(new Float32Array(result), start * opts.dim);
      done += indices.length;
      opts.onProgress?.(done, opts.indices.length);
    });
  } finally {
    await pool.destroy();
  }
  return out;
}
