import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { RetinaError } from '../core/errors.js';
import { transformImage } from '../transform.js';
import { selectBackend } from '../backends/backend-registry.js';
import { loadGrader } from './grader.js';
import { argmaxRows } from './metrics.js';
import { toNetworkInput } from './network-input.js';

export interface PredictOptions {
  /** RUN_DIR, its model/ folder, or a model.json. */
  model: string;
  images: string[];
  backend?: string;
}

export interface Prediction {
  image: string;
  /** The most probable grade. */
  grade: number;
  /** Probability of grades 0-4. */
  probabilities: number[];
}

/** What `retina predict --json` prints. */
export interface PredictResult {
  model: string;
  backend: string;
  predictions: Prediction[];
}

/**
 * Grade images with a trained model: each image goes through the transform the model's training
 * data went through (crop, size, normalization), then the network.
 */
export async function predict(opts: PredictOptions): Promise<PredictResult> {
  if (opts.images.length === 0) throw new RetinaError('BAD_ARGUMENT', 'Expected at least one IMAGE to grade');
  const backend = await selectBackend(opts.backend ?? 'auto');
  const grader = await loadGrader(opts.model);
  try {
    const elements = grader.inputShape.reduce((a, b) => a * b, 1);
    const predictions: Prediction[] = [];
    const chunk = 8;
    for (let s = 0; s < opts.images.length; s += chunk) {
      const files = opts.images.slice(s, s + chunk).map((f) => resolve(f));
      const x = new Float32Array(files.length * elements);
      for (const [i, file] of files.entries()) {
        const bytes = await transformImage(file, { ...grader.transform, dtype: 'uint8' });
        toNetworkInput(bytes, 'uint8', x, i * elements);
      }
      const p = tf.tidy(() => grader.model.predict(tf.tensor4d(x, [files.length, ...grader.inputShape])) as tf.Tensor);
      const probs = await p.data() as Float32Array;
      p.dispose();
      const grades = argmaxRows(probs, grader.classes);
      files.forEach((image, i) => predictions.push({
        image, grade: grades[i]!, probabilities: Array.from(probs.subarray(i * grader.classes, (i + 1) * grader.classes)),
      }));
    }
    return { model: grader.file, backend: backend.name, predictions };
  } finally {
    grader.model.dispose();
  }
}
