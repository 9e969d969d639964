import { RetinaError, badArgument } from '../core/errors.js';
import { DEFAULT_LABELS } from '../defaults.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Split } from '../../formats/types.js';
import { selectBackend } from '../backends/backend-registry.js';
import { loadGrader } from './grader.js';
import { batches } from './loader.js';
import { accuracy, argmaxRows, confusionMatrix, crossEntropy, quadraticWeightedKappa } from './metrics.js';
import { NUM_CLASSES } from './models/model-registry.js';
import { openDatasetSource, openSource, type SampleSource } from './sources.js';
import { resolve } from 'node:path';
import { openGraderForward } from './grader-forward.js';

export interface EvaluateOptions {
  /** RUN_DIR, its model/ folder, or a model.json. */
  model: string;
  /** A serialized dataset (any format). */
  data?: string;
  /** Or JPEGs and their labels, transformed as the model's training data was. */
  images?: string;
  labels?: string;
  valFraction?: number;
  splitSeed?: number;
  split?: Split | 'all';
  batchSize?: number;
  backend?: string;
  logger?: Logger;
}

/** What `retina evaluate --json` prints. */
export interface EvaluateResult {
  model: string;
  data: string;
  split: Split | 'all';
  images: number;
  loss: number;
  accuracy: number;
  kappa: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
  seconds: number;
  imagesPerSecond: number;
  backend: string;
  /** What ran the network: `onnxruntime`, or the tfjs backend. */
  engine: string;
}

/** Grade a split of a dataset with a trained model and score it (loss, accuracy, kappa, confusion). */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  const t0 = performance.now();
  const log = opts.logger ?? silentLogger;
  const split = opts.split ?? 'val';
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badArgument('--batch-size', 'a positive integer', batchSize);
  if ((opts.data === undefined) === (opts.images === undefined)) {
    throw new RetinaError('BAD_ARGUMENT', 'Pass either --data DATASET or --images DIR (with --labels CSV)');
  }
  const backend = await selectBackend(opts.backend ?? 'auto');
  const grader = await loadGrader(opts.model);
  let source: SampleSource;
  if (opts.data !== undefined) source = await openDatasetSource(opts.data);
  else {
    source = await openSource({
      kind: 'images', images: resolve(opts.images!), labels: resolve(opts.labels ?? DEFAULT_LABELS),
      transform: { ...grader.transform, dtype: 'uint8' }, valFraction: opts.valFraction ?? 0.1, splitSeed: opts.splitSeed ?? 0,
    });
  }
  const where = opts.data ?? opts.images!;
  let forward: Awaited<ReturnType<typeof openGraderForward>> | undefined;
  try {
    forward = await openGraderForward({ grader, selected: backend, log });
    if (source.spec.shape.join('x') !== grader.inputShape.join('x')) {
      throw new RetinaError('BAD_INPUT', `The model takes ${grader.inputShape.join('x')} images but ${where} holds ${source.spec.shape.join('x')}`, { location: { file: where } });
    }
    const indices = split === 'all' ? Array.from({ length: source.count }, (_, i) => i) : source.indicesOf(split);
    if (indices.length === 0) throw new RetinaError('BAD_INPUT', `The ${split} split of ${where} is empty`, { location: { file: where } });
    const labels = indices.map((i) => source.meta(i).label);
    const bad = labels.findIndex((l) => !(Number.isInteger(l) && l >= 0 && l < NUM_CLASSES));
    if (bad >= 0) throw new RetinaError('BAD_INPUT', `Record ${indices[bad]} of ${where} has label ${labels[bad]}; the model grades 0-${NUM_CLASSES - 1}`, { location: { file: where, record: indices[bad]! } });
    const probs = new Float32Array(indices.length * NUM_CLASSES);
    let at = 0;
    for await (const b of batches(source, indices, batchSize)) {
      probs.set(await forward.run(b.x, [b.size, ...grader.inputShape]), at * NUM_CLASSES);
      at += b.size;
    }
    const predicted = argmaxRows(probs, NUM_CLASSES);
    const seconds = (performance.now() - t0) / 1000;
    const result: EvaluateResult = {
      model: grader.file, data: resolve(where), split, images: indices.length,
      loss: crossEntropy(probs, labels, NUM_CLASSES),
      accuracy: accuracy(labels, predicted),
      kappa: quadraticWeightedKappa(labels, predicted, NUM_CLASSES),
      confusion: confusionMatrix(labels, predicted, NUM_CLASSES),
      seconds, imagesPerSecond: indices.length / seconds, backend: backend.name, engine: forward.engine,
    };
    log.info(`evaluate: ${indices.length} ${split} images: loss ${result.loss.toFixed(4)}, accuracy ${result.accuracy.toFixed(3)}, kappa ${result.kappa.toFixed(3)}`);
    return result;
  } finally {
    await forward?.dispose();
    grader.model.dispose();
    await source.close();
  }
}

/** The human-readable report `retina evaluate` prints on stdout: scores and the confusion matrix. */
export function formatEvaluation(r: EvaluateResult): string[] {
  const width = Math.max(4, ...r.confusion.flat().map((n) => String(n).length + 1));
  const cell = (v: string | number) => String(v).padStart(width);
  const grades = r.confusion.map((_, g) => g);
  return [
    `${r.images} ${r.split === 'all' ? '' : `${r.split} `}images of ${r.data}, model ${r.model}`,
    `loss ${r.loss.toFixed(4)}  accuracy ${r.accuracy.toFixed(3)}  kappa ${r.kappa.toFixed(3)} (quadratic weighted)`,
    'confusion matrix (rows: actual grade, columns: predicted grade)',
    `${'grade'.padEnd(6)}${grades.map(cell).join('')}`,
    ...r.confusion.map((row, g) => `${String(g).padEnd(6)}${row.map(cell).join('')}`),
  ];
}
