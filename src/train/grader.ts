import type * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RetinaError } from '../core/errors.js';
import type { TransformOptions } from '../transform.js';
import { loadLayersModelFile } from './model-io.js';
import { NUM_CLASSES } from './models/model-registry.js';

/** A trained grader with what `evaluate` and `predict` need to feed it. */
export interface Grader {
  model: tf.LayersModel;
  file: string;
  inputShape: [number, number, number];
  /** The transform its training data went through; predict applies it to new images. */
  transform: Omit<TransformOptions, 'dtype'>;
  classes: number;
}

/** RUN_DIR, RUN_DIR/model, or a model.json → the model.json path. */
export function graderFile(path: string): string {
  const p = resolve(path);
  if (p.endsWith('.json')) return p;
  if (existsSync(join(p, 'model', 'model.json'))) return join(p, 'model', 'model.json');
  return join(p, 'model.json');
}

/**
 * Load a model written by `retina train` (or any tfjs layers model that maps HxWx3 images in
 * [-1,1] to 5 grade probabilities).
 *
 * @throws RetinaError NOT_FOUND / CORRUPT for a missing or damaged model, BAD_INPUT when it does
 *   not output 5 grades.
 */
export async function loadGrader(path: string): Promise<Grader> {
  const file = graderFile(path);
  const model = await loadLayersModelFile(file);
  const inShape = model.inputs[0]?.shape;
  const outShape = model.outputs[0]?.shape;
  if (!inShape || inShape.length !== 4 || inShape.slice(1).some((d) => typeof d !== 'number') || inShape[3] !== 3) {
    throw new RetinaError('BAD_INPUT', `${file} takes input ${JSON.stringify(inShape)}; a grader takes [batch, H, W, 3] images`, { location: { file } });
  }
  if (!outShape || outShape.length !== 2 || outShape[1] !== NUM_CLASSES) {
    throw new RetinaError('BAD_INPUT', `${file} outputs ${JSON.stringify(outShape)}; a grader outputs [batch, ${NUM_CLASSES}] grade probabilities`, { location: { file } });
  }
  const inputShape = inShape.slice(1) as [number, number, number];
  const meta = (model.getUserDefinedMetadata() as { retina?: { transform?: Partial<TransformOptions> } } | undefined)?.retina;
  const t = meta?.transform ?? {};
  return {
    model, file, inputShape, classes: NUM_CLASSES,
    transform: {
      size: inputShape[0],
      crop: t.crop === 'none' ? 'none' : 'auto',
      normalize: t.normalize === 'ben-graham' ? 'ben-graham' : 'none',
    },
  };
}
