import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RetinaError } from '../core/errors.js';
import { readWholeFile } from '../preprocess/read-whole.js';
import { transformImage } from '../transform.js';
import { selectBackend } from '../backends/backend-registry.js';
import { loadGrader } from './grader.js';
import { argmaxRows } from './metrics.js';
import { toNetworkInput } from '../bytes-to-float.js';
import { openGraderForward } from './grader-forward.js';
import { silentLogger, type Logger } from '../core/log.js';

export interface PredictOptions {
  /** RUN_DIR, its model/ folder, or a model.json. */
  model: string;
  images: string[];
  backend?: string;
  logger?: Logger;
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
  /** What ran the network: `onnxruntime`, or the tfjs backend. */
  engine: string;
  predictions: Prediction[];
}

/**
 * Grade images with a trained model: each image goes through the transform the model's training
 * data went through (crop, size, normalization), then the network.
 */
export async function predict(opts: PredictOptions): Promise<PredictResult> {
  if (opts.images.length === 0) throw new RetinaError('BAD_ARGUMENT', 'Expected at least one IMAGE to grade');
  // Every image before the model loads: a typo'd path fails at once, as NOT_FOUND.
  for (const image of opts.images) {
    const st = await stat(image).catch(() => undefined);
    if (!st) throw new RetinaError('NOT_FOUND', `No image file at ${image}`, { location: { file: resolve(image) }, hint: 'Check the path of each IMAGE argument.' });
    if (!st.isFile()) throw new RetinaError('BAD_ARGUMENT', `${image} is not a file; predict grades image files (JPEG, PNG, TIFF)`, { location: { file: resolve(image) }, hint: 'Pass the image files, e.g. train/*.jpeg.' });
  }
  const backend = await selectBackend(opts.backend ?? 'auto');
  const grader = await loadGrader(opts.model);
  const forward = await openGraderForward({ grader, selected: backend, log: opts.logger ?? silentLogger }).catch((err: unknown) => { grader.model.dispose(); throw err; });
  try {
    const elements = grader.inputShape.reduce((a, b) => a * b, 1);
    const predictions: Prediction[] = [];
    const chunk = 8;
    for (let s = 0; s < opts.images.length; s += chunk) {
      const files = opts.images.slice(s, s + chunk).map((f) => resolve(f));
      const x = new Float32Array(files.length * elements);
      for (const [i, file] of files.entries()) {
        const bytes = await transformImage(await readWholeFile(file), { ...grader.transform, dtype: 'uint8' }).catch((err: unknown) => {
          // The transform's hint names preprocess' --skip-invalid, which predict does not have.
          if (err instanceof RetinaError && err.code === 'CORRUPT') {
            throw new RetinaError('CORRUPT', err.message, { location: err.location, hint: 'Replace the file, or leave it out of the IMAGE arguments.', cause: err.cause });
          }
          throw err;
        });
        toNetworkInput(bytes, 'uint8', x, i * elements);
      }
      const probs = await forward.run(x, [files.length, ...grader.inputShape]);
      const grades = argmaxRows(probs, grader.classes);
      files.forEach((image, i) => predictions.push({
        image, grade: grades[i]!, probabilities: Array.from(probs.subarray(i * grader.classes, (i + 1) * grader.classes)),
      }));
    }
    return { model: grader.file, backend: backend.name, engine: forward.engine, predictions };
  } finally {
    await forward.dispose();
    grader.model.dispose();
  }
}
