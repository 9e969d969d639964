import * as tf from '@tensorflow/tfjs';

/**
 * How convolution units are built:
 * - `keras`: Conv2D (no bias) + BatchNormalization(scale: false, epsilon 1e-3) + ReLU, exactly
 *   Keras' InceptionV3 (21,802,784 parameters); the layout that converted Keras weights load into.
 * - `trainable`: as `keras` but BatchNormalization(scale: true), because tfjs-layers 4.22 cannot
 *   train a BN layer without gamma (+17,216 parameters, gamma initialised to ones).
 * - `folded`: Conv2D with bias and ReLU fused, no BN: inference only, weights from `foldBatchNorm`.
 */
export type UnitMode = 'keras' | 'trainable' | 'folded';

export const INCEPTION_INPUT: [number, number, number] = [299, 299, 3];
export const INCEPTION_FEATURES = 2048;
export const BN_EPSILON = 1e-3;

interface Ctx {
  mode: UnitMode;
  seed: number;
  unit: number;
}

/** Layer names of unit `i`: shared by every mode, so weights can be moved between them by name. */
export function unitNames(i: number): { conv: string; bn: string; relu: string } {
  const id = String(i).padStart(3, '0');
  return { conv: `unit${id}_conv`, bn: `unit${id}_bn`, relu: `unit${id}_relu` };
}

function convBn(ctx: Ctx, x: tf.SymbolicTensor, filters: number, kh: number, kw: number, strides = 1, padding: 'same' | 'valid' = 'same'): tf.SymbolicTensor {
  const i = ++ctx.unit;
  const names = unitNames(i);
  // A seed per unit makes the random init identical in every thread and process.
  const kernelInitializer = tf.initializers.glorotUniform({ seed: ctx.seed * 1000 + i });
  if (ctx.mode === 'folded') {
    return tf.layers.conv2d({ name: names.conv, filters, kernelSize: [kh, kw], strides, padding, useBias: true, activation: 'relu', kernelInitializer }).apply(x) as tf.SymbolicTensor;
  }
  let y = tf.layers.conv2d({ name: names.conv, filters, kernelSize: [kh, kw], strides, padding, useBias: false, kernelInitializer }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: names.bn, axis: 3, scale: ctx.mode === 'trainable', epsilon: BN_EPSILON }).apply(y) as tf.SymbolicTensor;
  return tf.layers.activation({ name: names.relu, activation: 'relu' }).apply(y) as tf.SymbolicTensor;
}

const maxPool = (x: tf.SymbolicTensor, name?: string) =>
  tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', ...(name ? { name } : {}) }).apply(x) as tf.SymbolicTensor;
const avgPool = (x: tf.SymbolicTensor) =>
  tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x) as tf.SymbolicTensor;
const concat = (xs: tf.SymbolicTensor[], name?: string) =>
  tf.layers.concatenate({ axis: 3, ...(name ? { name } : {}) }).apply(xs) as tf.SymbolicTensor;

/**
 * The Keras InceptionV3 topology without its top, average-pooled: [N,299,299,3] → [N,2048].
 * Unit order matches keras.applications.InceptionV3, so converted weights map one to one.
 */
export function buildInceptionV3(opts: { mode: UnitMode; seed: number; name?: string }): tf.LayersModel {
  const ctx: Ctx = { mode: opts.mode, seed: opts.seed, unit: 0 };
  const input = tf.input({ shape: INCEPTION_INPUT, name: 'image' });
  let x = convBn(ctx, input, 32, 3, 3, 2, 'valid');
  x = convBn(ctx, x, 32, 3, 3, 1, 'valid');
  x = convBn(ctx, x, 64, 3, 3);
  x = maxPool(x);
  x = convBn(ctx, x, 80, 1, 1, 1, 'valid');
  x = convBn(ctx, x, 192, 3, 3, 1, 'valid');
  x = maxPool(x);

  // mixed0-2: 35x35x256/288/288
  for (const [i, pool] of [[0, 32], [1, 64], [2, 64]] as const) {
    const b1 = convBn(ctx, x, 64, 1, 1);
    let b5 = convBn(ctx, x, 48, 1, 1);
    b5 = convBn(ctx, b5, 64, 5, 5);
    let b3 = convBn(ctx, x, 64, 1, 1);
    b3 = convBn(ctx, b3, 96, 3, 3);
    b3 = convBn(ctx, b3, 96, 3, 3);
    const bp = convBn(ctx, avgPool(x), pool, 1, 1);
    x = concat([b1, b5, b3, bp], `mixed${i}`);
  }

  // mixed3: 17x17x768
  {
    const b3 = convBn(ctx, x, 384, 3, 3, 2, 'valid');
    let bd = convBn(ctx, x, 64, 1, 1);
    bd = convBn(ctx, bd, 96, 3, 3);
    bd = convBn(ctx, bd, 96, 3, 3, 2, 'valid');
    x = concat([b3, bd, maxPool(x)], 'mixed3');
  }

  // mixed4-7: 17x17x768
  for (const [i, c] of [[4, 128], [5, 160], [6, 160], [7, 192]] as const) {
    const b1 = convBn(ctx, x, 192, 1, 1);
    let b7 = convBn(ctx, x, c, 1, 1);
    b7 = convBn(ctx, b7, c, 1, 7);
    b7 = convBn(ctx, b7, 192, 7, 1);
    let bd = convBn(ctx, x, c, 1, 1);
    bd = convBn(ctx, bd, c, 7, 1);
    bd = convBn(ctx, bd, c, 1, 7);
    bd = convBn(ctx, bd, c, 7, 1);
    bd = convBn(ctx, bd, 192, 1, 7);
    const bp = convBn(ctx, avgPool(x), 192, 1, 1);
    x = concat([b1, b7, bd, bp], `mixed${i}`);
  }

  // mixed8: 8x8x1280
  {
    let b3 = convBn(ctx, x, 192, 1, 1);
    b3 = convBn(ctx, b3, 320, 3, 3, 2, 'valid');
    let b7 = convBn(ctx, x, 192, 1, 1);
    b7 = convBn(ctx, b7, 192, 1, 7);
    b7 = convBn(ctx, b7, 192, 7, 1);
    b7 = convBn(ctx, b7, 192, 3, 3, 2, 'valid');
    x = concat([b3, b7, maxPool(x)], 'mixed8');
  }

  // mixed9-10: 8x8x2048
  for (const i of [9, 10]) {
    const b1 = convBn(ctx, x, 320, 1, 1);
    const b3 = convBn(ctx, x, 384, 1, 1);
    const b3cat = concat([convBn(ctx, b3, 384, 1, 3), convBn(ctx, b3, 384, 3, 1)], `mixed9_${i - 9}`);
    let bd = convBn(ctx, x, 448, 1, 1);
    bd = convBn(ctx, bd, 384, 3, 3);
    const bdcat = concat([convBn(ctx, bd, 384, 1, 3), convBn(ctx, bd, 384, 3, 1)]);
    const bp = convBn(ctx, avgPool(x), 192, 1, 1);
    x = concat([b1, b3cat, bdcat, bp], `mixed${i}`);
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: pooled, name: opts.name ?? 'inception_v3' });
}

/** Number of convolution units of InceptionV3 (Keras: 94). */
export const INCEPTION_UNITS = 94;
