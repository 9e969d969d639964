import * as tf from '@tensorflow/tfjs';
import { RetinaError } from '../../core/errors.js';
import { compareIds } from '../../shard-assign.js';
import { INCEPTION_UNITS, unitNames } from './inception-v3.js';
import type { KerasLayer, KerasWeight, KerasWeightsFile } from './keras-h5.js';

/** Where the weights of one InceptionV3 unit came from (for messages and tests). */
export interface UnitSource {
  unit: number;
  conv: string;
  bn: string;
}

const isConv = (l: KerasLayer) => l.weights.some((w) => w.role === 'kernel' && w.shape.length === 4);
const isBn = (l: KerasLayer) => l.weights.some((w) => w.role === 'moving_mean');

/** Whether the file's batch norms carry gamma (Keras' InceptionV3 has scale=False: they do not). */
export function hasGamma(file: KerasWeightsFile): boolean {
  return file.layers.some((l) => isBn(l) && l.weights.some((w) => w.role === 'gamma'));
}

function describe(shape: readonly (number | null)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Put a Keras InceptionV3's weights into retina's topology (built in `keras` or `trainable` mode),
 * unit by unit: unit k takes the k-th Conv2D and the k-th BatchNormalization in Keras' creation
 * order.
 *
 * Why by name and not by position in `layer_names`: Keras lists layers by graph depth (the
 * branches of a mixed block interleave), and its own `load_weights` pairs file and model layers
 * by that position, which matches only a model built by the same code. The layer names carry
 * Keras' creation counter (`conv2d_1` ... `conv2d_94` in Keras 2.0-2.2 files such as the ImageNet
 * one; `conv2d`, `conv2d_1` ... `conv2d_93` from tf.keras), and creation order is exactly the order
 * of `conv2d_bn` calls in keras.applications.inception_v3, which is retina's unit order. So every
 * value lands where Keras' own loader puts it, whatever order the file lists the layers in.
 *
 * @throws RetinaError BAD_INPUT naming the layer whose shape or weights do not fit.
 */
export function adoptKerasInception(src: KerasWeightsFile, target: tf.LayersModel): UnitSource[] {
  const convs = src.layers.filter(isConv).sort((a, b) => compareIds(a.name, b.name));
  const bns = src.layers.filter(isBn).sort((a, b) => compareIds(a.name, b.name));
  const hint = 'Pass Keras\' InceptionV3 weights (`retina weights` names the ImageNet file and checks it), or --model small-cnn without --weights.';
  if (convs.length !== INCEPTION_UNITS || bns.length !== INCEPTION_UNITS) {
    throw new RetinaError('BAD_INPUT', `${src.file} holds ${convs.length} convolution and ${bns.length} batch-norm layers; Keras' InceptionV3 has ${INCEPTION_UNITS} of each`, {
      location: { file: src.file }, hint,
    });
  }
  const byName = new Map(target.layers.map((l) => [l.name, l] as const));
  const sources: UnitSource[] = [];
  const pending: [tf.layers.Layer, tf.Tensor[]][] = [];
  try {
    for (let i = 0; i < INCEPTION_UNITS; i++) {
      const names = unitNames(i + 1);
      const conv = byName.get(names.conv), bn = byName.get(names.bn);
      if (!conv || !bn) throw new Error(`adoptKerasInception: the target model has no ${names.conv}/${names.bn}; build it in keras or trainable mode`);
      const sc = convs[i]!, sb = bns[i]!;
      const where = (layer: string) => `${src.file}: layer ${layer} (InceptionV3 unit ${i + 1} of ${INCEPTION_UNITS})`;
      const take = (layer: KerasLayer, role: string, shape: readonly (number | null)[]): KerasWeight | undefined => {
        const w = layer.weights.find((x) => x.role === role);
        if (!w) return undefined;
        if (w.shape.join() !== shape.join()) {
          throw new RetinaError('BAD_INPUT', `${where(layer.name)} has ${role} of shape ${describe(w.shape)}; retina's InceptionV3 expects ${describe(shape)}`, {
            location: { file: src.file, id: layer.name }, hint,
          });
        }
        return w;
      };
      const kernel = take(sc, 'kernel', conv.weights[0]!.shape)!;
      if (sc.weights.length !== 1) {
        throw new RetinaError('BAD_INPUT', `${where(sc.name)} has weights ${sc.weights.map((w) => w.role).join(', ')}; Keras' InceptionV3 convolutions have a kernel only (no bias)`, {
          location: { file: src.file, id: sc.name }, hint,
        });
      }
      const bnValues = bn.weights.map((w) => {
        const role = w.originalName.split('/').pop() ?? '';
        const found = take(sb, role, w.shape);
        if (found) return tf.tensor(found.values, found.shape);
        if (role === 'gamma') return tf.ones(w.shape as number[]);
        throw new RetinaError('BAD_INPUT', `${where(sb.name)} lacks ${role} (it has ${sb.weights.map((x) => x.role).join(', ')})`, {
          location: { file: src.file, id: sb.name }, hint,
        });
      });
      const wanted = new Set(bn.weights.map((w) => w.originalName.split('/').pop() ?? ''));
      const extra = sb.weights.find((w) => !wanted.has(w.role));
      if (extra) {
        tf.dispose(bnValues);
        throw new RetinaError('BAD_INPUT', `${where(sb.name)} has ${extra.role}, which this form of the model has no place for`, {
          location: { file: src.file, id: sb.name }, hint,
        });
      }
      pending.push([conv, [tf.tensor(kernel.values, kernel.shape)]], [bn, bnValues]);
      sources.push({ unit: i + 1, conv: sc.name, bn: sb.name });
    }
    // Only once every unit fits: a half-loaded model is never left behind.
    for (const [layer, values] of pending) layer.setWeights(values);
    return sources;
  } finally {
    for (const [, values] of pending) tf.dispose(values);
  }
}
