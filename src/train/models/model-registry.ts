import * as tf from '@tensorflow/tfjs';
import { open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { RetinaError } from '../../core/errors.js';
import { compareIds } from '../../shard-assign.js';
import { loadLayersModelFile, modelJsonPath } from '../model-io.js';
import { buildInceptionV3, INCEPTION_INPUT, INCEPTION_UNITS, unitNames } from './inception-v3.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { buildSmallCnn, SMALL_CNN_FEATURES } from './small-cnn.js';
import { xxh64File } from '../../core/checksum.js';
import { HDF5_MAGIC, readKerasH5 } from './keras-h5.js';
import { adoptKerasInception, hasGamma } from './inception-h5.js';

import { MODEL_NAMES, type ModelName } from './names.js';

export { MODEL_NAMES, type ModelName };
export const NUM_CLASSES = 5;

/** Everything needed to rebuild the same backbone in another thread or process. */
export interface BackboneSpec {
  model: ModelName;
  seed: number;
  /**
   * The backbone's weights instead of the seeded random init: Keras' HDF5 weights of InceptionV3
   * (e.g. the ImageNet file) or a tfjs layers model.json.
   */
  weights?: string;
  /** Input HxWxC; fixed [299,299,3] for inception-v3, free for small-cnn (default 64x64x3). */
  inputShape?: [number, number, number];
  /** Train the backbone (BN in training form) or freeze it (BN folded, inference only). */
  trainable: boolean;
}

export interface Backbone {
  model: tf.LayersModel;
  inputShape: [number, number, number];
  featureDim: number;
  /** Batch norm folded into the convolutions (inference form). */
  folded: boolean;
  /** Folded only: the backbone's parameters before folding (Keras' count for InceptionV3). */
  unfoldedParams?: number;
  /** Stable identity of the weights: what the feature cache is keyed on. */
  identity: string;
  /** Where the weights came from: "random" (the seeded init) or the file and its checksum. */
  weights: BackboneWeights;
}

/** `backboneWeights` in `retina train --json` and summary.json. */
export type BackboneWeights = 'random' | { file: string; format: 'keras-h5' | 'tfjs-layers'; xxh64: string };

/** Whether `path` is an HDF5 file (by its signature; false for folders and missing files). */
async function isHdf5(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(8);
      await fh.read(head, 0, 8, 0);
      return HDF5_MAGIC.every((b, i) => head[i] === b);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** InceptionV3 from Keras' HDF5 weights: frozen (BN folded) or trainable. */
async function kerasH5Backbone(spec: BackboneSpec, file: string): Promise<Backbone> {
  if (spec.model !== 'inception-v3') {
    throw new RetinaError('BAD_ARGUMENT', `${file} is a Keras HDF5 weights file, which retina reads onto --model inception-v3 only (not ${spec.model})`, {
      location: { file }, hint: 'Pass --model inception-v3, or drop --weights.',
    });
  }
  const [h5, sum] = await Promise.all([readKerasH5(file), xxh64File(file)]);
  const weights: BackboneWeights = { file, format: 'keras-h5', xxh64: sum.xxh64 };
  const identity = `weights:h5:${sum.xxh64}`;
  // A file whose batch norms carry gamma needs the scaled form even when frozen.
  const form = buildInceptionV3({ mode: spec.trainable || hasGamma(h5) ? 'trainable' : 'keras', seed: spec.seed });
  try {
    adoptKerasInception(h5, form);
  } catch (err) {
    form.dispose();
    throw err;
  }
  if (spec.trainable) return { model: form, inputShape: INCEPTION_INPUT, featureDim: 2048, folded: false, identity, weights };
  const folded = buildInceptionV3({ mode: 'folded', seed: spec.seed });
  foldBatchNorm(form, folded);
  const unfoldedParams = form.countParams();
  form.dispose();
  return { model: folded, inputShape: INCEPTION_INPUT, featureDim: 2048, folded: true, unfoldedParams, identity, weights };
}

function shapeOf(model: tf.LayersModel): [number, number, number] {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new RetinaError('BAD_INPUT', `The backbone's input must be [batch, height, width, channels] with fixed sizes; found ${JSON.stringify(shape)}`);
  }
  return shape.slice(1) as [number, number, number];
}

/**
 * Convolution and BN layers of a model in creation order, which is InceptionV3's unit order.
 * `model.layers` is topological, not creation order; Keras names layers with a counter
 * (conv2d, conv2d_1, … conv2d_93) and retina with unit numbers, so a numeric-aware sort of the
 * names restores it.
 */
function convAndBn(model: tf.LayersModel): { convs: tf.layers.Layer[]; bns: tf.layers.Layer[] } {
  const byName = (a: tf.layers.Layer, b: tf.layers.Layer) => compareIds(a.name, b.name);
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').sort(byName);
  const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').sort(byName);
  return { convs, bns };
}

/**
 * Move a loaded Keras InceptionV3 (e.g. converted ImageNet weights, any layer names) into retina's
 * own topology by unit order. Returns false when the loaded model is not an InceptionV3.
 */
function adoptInceptionWeights(loaded: tf.LayersModel, target: tf.LayersModel): boolean {
  const { convs, bns } = convAndBn(loaded);
  if (convs.length !== INCEPTION_UNITS || bns.length !== INCEPTION_UNITS) return false;
  const byName = new Map(target.layers.map((l) => [l.name, l] as const));
  for (let i = 0; i < INCEPTION_UNITS; i++) {
    const names = unitNames(i + 1);
    const conv = byName.get(names.conv), bn = byName.get(names.bn);
    const srcConv = convs[i]!, srcBn = bns[i]!;
    if (!conv || !bn) return false;
    const kernel = srcConv.getWeights()[0];
    if (!kernel || kernel.shape.join() !== conv.getWeights()[0]?.shape.join()) return false;
    conv.setWeights([kernel]);
    // Keras BN weights are [gamma?, beta, moving_mean, moving_variance]; fill gamma with ones when
    // the source has none and the target wants one (trainable form).
    const src = new Map(srcBn.weights.map((w, j) => [w.originalName.split('/').pop() ?? '', srcBn.getWeights()[j]!] as const));
    const values = bn.weights.map((w) => {
      const role = w.originalName.split('/').pop() ?? '';
      return src.get(role) ?? (role === 'gamma' ? tf.ones(w.shape as number[]) : undefined);
    });
    if (values.some((v) => v === undefined)) return false;
    bn.setWeights(values as tf.Tensor[]);
  }
  return true;
}

/** Checksum of a model.json and every weight file it names: the identity caches key on. */
export async function weightsIdentity(path: string): Promise<string> {
  const file = modelJsonPath(path);
  const text = await readFile(file);
  let h = xxh64(text);
  try {
    const json = JSON.parse(text.toString('utf8')) as { weightsManifest?: { paths?: string[] }[] };
    for (const g of json.weightsManifest ?? []) for (const p of g.paths ?? []) h = xxh64(await readFile(resolve(dirname(file), p)), h);
  } catch {
    // An unreadable manifest fails later, with a clear error, when the model loads.
  }
  return `weights:${h.toString(16).padStart(16, '0')}`;
}

/**
 * Build (or load) the backbone: [N,H,W,C] images in [-1,1] → [N,D] pooled features. Frozen
 * backbones come back with batch norm folded into the convolutions (conv+bias+ReLU, one fused
 * kernel each), which is both faster and numerically the same in inference.
 */
export async function buildBackbone(spec: BackboneSpec): Promise<Backbone> {
  if (spec.weights !== undefined && await isHdf5(spec.weights)) return kerasH5Backbone(spec, spec.weights);
  if (spec.weights !== undefined) {
    const loaded = await loadLayersModelFile(spec.weights);
    const identity = await weightsIdentity(spec.weights);
    const weights: BackboneWeights = { file: modelJsonPath(spec.weights), format: 'tfjs-layers', xxh64: identity.slice('weights:'.length) };
    if (spec.model === 'inception-v3') {
      const form = buildInceptionV3({ mode: spec.trainable ? 'trainable' : 'keras', seed: spec.seed });
      if (adoptInceptionWeights(loaded, form)) {
        loaded.dispose();
        if (spec.trainable) return { model: form, inputShape: INCEPTION_INPUT, featureDim: 2048, folded: false, identity, weights };
        const folded = buildInceptionV3({ mode: 'folded', seed: spec.seed });
        foldBatchNorm(form, folded);
        const unfoldedParams = form.countParams();
        form.dispose();
        return { model: folded, inputShape: INCEPTION_INPUT, featureDim: 2048, folded: true, unfoldedParams, identity, weights };
      }
      form.dispose();
    }
    // Any other layers model: used as it is, average-pooled if it ends in a feature map.
    if (spec.trainable && loaded.layers.some((l) => l.getClassName() === 'BatchNormalization' && l.getConfig().scale === false)) {
      throw new RetinaError('UNSUPPORTED', `${spec.weights} has BatchNormalization layers without scale, which tfjs 4.22 cannot train`, {
        hint: 'Train with the backbone frozen (drop --fine-tune), or use --model inception-v3 with a Keras InceptionV3, which retina rebuilds trainable.',
      });
    }
    let model = loaded;
    const out = loaded.outputs[0]!;
    if (loaded.outputs.length !== 1) throw new RetinaError('BAD_INPUT', `${spec.weights} has ${loaded.outputs.length} outputs; a backbone needs one`);
    if (out.shape.length === 4) {
      const pooled = tf.layers.globalAveragePooling2d({ name: 'backbone_pool' }).apply(out) as tf.SymbolicTensor;
      model = tf.model({ inputs: loaded.inputs, outputs: pooled, name: 'loaded_backbone' });
    } else if (out.shape.length !== 2) {
      throw new RetinaError('BAD_INPUT', `${spec.weights} outputs shape ${JSON.stringify(out.shape)}; a backbone must output [batch, features] or a feature map`);
    }
    const dim = model.outputs[0]!.shape[1];
    if (typeof dim !== 'number') throw new RetinaError('BAD_INPUT', `${spec.weights} has no fixed feature size`);
    return { model, inputShape: shapeOf(model), featureDim: dim, folded: false, identity, weights };
  }
  if (spec.model === 'inception-v3') {
    if (spec.inputShape && spec.inputShape.join('x') !== INCEPTION_INPUT.join('x')) {
      throw new RetinaError('BAD_INPUT', `inception-v3 takes ${INCEPTION_INPUT.join('x')} images; the data is ${spec.inputShape.join('x')}`, {
        hint: 'Preprocess with --size 299, or use --model small-cnn.',
      });
    }
    const identity = `inception-v3:seed=${spec.seed}`;
    if (spec.trainable) return { model: buildInceptionV3({ mode: 'trainable', seed: spec.seed }), inputShape: INCEPTION_INPUT, featureDim: 2048, folded: false, identity, weights: 'random' };
    const keras = buildInceptionV3({ mode: 'keras', seed: spec.seed });
    const folded = buildInceptionV3({ mode: 'folded', seed: spec.seed });
    foldBatchNorm(keras, folded);
    const unfoldedParams = keras.countParams();
    keras.dispose();
    return { model: folded, inputShape: INCEPTION_INPUT, featureDim: 2048, folded: true, unfoldedParams, identity, weights: 'random' };
  }
  const inputShape = spec.inputShape ?? [64, 64, 3];
  if (inputShape[0] < 16 || inputShape[1] < 16) throw new RetinaError('BAD_INPUT', `small-cnn needs images of at least 16x16; the data is ${inputShape.join('x')}`);
  const identity = `small-cnn:${inputShape.join('x')}:seed=${spec.seed}`;
  const bn = buildSmallCnn({ inputShape, seed: spec.seed, mode: 'trainable' });
  if (spec.trainable) return { model: bn, inputShape, featureDim: SMALL_CNN_FEATURES, folded: false, identity, weights: 'random' };
  const folded = buildSmallCnn({ inputShape, seed: spec.seed, mode: 'folded' });
  foldBatchNorm(bn, folded);
  const unfoldedParams = bn.countParams();
  bn.dispose();
  return { model: folded, inputShape, featureDim: SMALL_CNN_FEATURES, folded: true, unfoldedParams, identity, weights: 'random' };
}

/** The new classification head: Dense(D → 5) with softmax (the seed's setup). */
export interface Head {
  /** The Dense layer, shared by `model` and the assembled full model. */
  layer: tf.layers.Layer;
  /** [N,D] features → [N,5] probabilities: what trains on cached features. */
  model: tf.LayersModel;
}

export function buildHead(featureDim: number, seed: number, classes = NUM_CLASSES): Head {
  const layer = tf.layers.dense({
    name: 'grade_head', units: classes, activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + 999 }),
  });
  const input = tf.input({ shape: [featureDim], name: 'features' });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor, name: 'head' });
  return { layer, model };
}

/** Backbone and head as one flat model (layers shared, so training either updates it). */
export function assemble(backbone: tf.LayersModel, head: Head): tf.LayersModel {
  const out = head.layer.apply(backbone.outputs[0]!) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.inputs, outputs: out, name: 'retina_grader' });
}
