import * as tf from '@tensorflow/tfjs';
import type { UnitMode } from './inception-v3.js';
import { BN_EPSILON, unitNames } from './inception-v3.js';

/**
 * A small, fast CNN for tests and quick runs: four 3x3 convolution units (8-16-32-32 filters,
 * the first at full resolution so that one- or two-pixel lesions survive, the others with stride
 * 2; conv + batch norm + ReLU, built like InceptionV3's units so the same `foldBatchNorm` folds
 * them), then global average pooling (lesion density) and max pooling (the strongest lesion) side
 * by side → 64 features. Accepts any input of at least 16x16.
 */
export function buildSmallCnn(opts: { inputShape: [number, number, number]; seed: number; mode: UnitMode; name?: string }): tf.LayersModel {
  const input = tf.input({ shape: opts.inputShape, name: 'image' });
  let x: tf.SymbolicTensor = input;
  const spec: [number, number][] = [[8, 1], [16, 2], [32, 2], [32, 2]];
  spec.forEach(([filters, strides], i) => {
    const names = unitNames(i + 1);
    const kernelInitializer = tf.initializers.heNormal({ seed: opts.seed * 1000 + i + 1 });
    if (opts.mode === 'folded') {
      x = tf.layers.conv2d({ name: names.conv, filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', useBias: true, kernelInitializer }).apply(x) as tf.SymbolicTensor;
      return;
    }
    x = tf.layers.conv2d({ name: names.conv, filters, kernelSize: 3, strides, padding: 'same', useBias: false, kernelInitializer }).apply(x) as tf.SymbolicTensor;
    // scale: true in every mode (tfjs 4.22 cannot train a BN without gamma); momentum 0.9 so the
    // moving statistics catch up within the few hundred steps of a short run.
    x = tf.layers.batchNormalization({ name: names.bn, axis: 3, scale: true, epsilon: BN_EPSILON, momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.activation({ name: names.relu, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  });
  const avg = tf.layers.globalAveragePooling2d({ name: 'small_avg' }).apply(x) as tf.SymbolicTensor;
  const max = tf.layers.globalMaxPooling2d({ name: 'small_max' }).apply(x) as tf.SymbolicTensor;
  const features = tf.layers.concatenate({ name: 'small_features' }).apply([avg, max]) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: features, name: opts.name ?? 'small_cnn' });
}

export const SMALL_CNN_FEATURES = 64;
