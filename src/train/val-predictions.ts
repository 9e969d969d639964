import * as tf from '@tensorflow/tfjs';
import { FEATURE_CHUNK } from './features.js';
import { batches } from './loader.js';
import { NUM_CLASSES } from './models/model-registry.js';
import type { SampleSource } from './sources.js';

/**
 * Validation probabilities: the head over cached features (`features`, all records) or over
 * features the workers computed this epoch (`valFeatures`, valIdx order), else the full model over
 * batches read here.
 */
export async function predictSplit(o: {
  source: SampleSource; valIdx: number[]; features: Float32Array | undefined; valFeatures?: Float32Array | undefined; dim: number;
  head: tf.LayersModel; full: tf.LayersModel; shape: [number, number, number]; batchSize: number;
}): Promise<{ probs: Float32Array; waitMs: number; computeMs: number }> {
  const probs = new Float32Array(o.valIdx.length * NUM_CLASSES);
  let waitMs = 0, computeMs = 0;
  if (o.features || o.valFeatures) {
    const tc = performance.now();
    let fx = o.valFeatures;
    if (!fx) {
      fx = new Float32Array(o.valIdx.length * o.dim);
      for (let i = 0; i < o.valIdx.length; i++) fx.set(o.features!.subarray(o.valIdx[i]! * o.dim, (o.valIdx[i]! + 1) * o.dim), i * o.dim);
    }
    const p = tf.tidy(() => o.head.predict(tf.tensor2d(fx, [o.valIdx.length, o.dim])) as tf.Tensor);
    probs.set(await p.data() as Float32Array);
    p.dispose();
    computeMs += performance.now() - tc;
    return { probs, waitMs, computeMs };
  }
  const it = batches(o.source, o.valIdx, o.batchSize);
  let at = 0;
  for (;;) {
    const tw = performance.now();
    const next = await it.next();
    waitMs += performance.now() - tw;
    if (next.done) break;
    const tc = performance.now();
    const b = next.value;
    const p = tf.tidy(() => o.full.predict(tf.tensor4d(b.x, [b.size, ...o.shape]), { batchSize: FEATURE_CHUNK }) as tf.Tensor);
    probs.set(await p.data() as Float32Array, at * NUM_CLASSES);
    at += b.size;
    p.dispose();
    computeMs += performance.now() - tc;
  }
  return { probs, waitMs, computeMs };
}
