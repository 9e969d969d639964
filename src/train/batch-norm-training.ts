import * as tf from '@tensorflow/tfjs';
import { patchLayerCall } from './layer-patch.js';
import type { MovingAverageBatch } from './moving-averages.js';

/** Batch statistics of one training-mode batch norm, handed out for the moving averages. */
export type BatchStatsSink = (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

/**
 * Batch normalization in training mode over every axis but the last (NHWC channels), with the
 * analytic gradient instead of autodiff through `tf.moments`:
 *
 *   y = gamma · x̂ + beta,  x̂ = (x − mean) · invstd,  invstd = 1/√(var + ε)   (biased variance)
 *   dbeta = Σ dy,  dgamma = Σ dy·x̂,  dx = gamma·invstd · (dy − dbeta/N − x̂·dgamma/N)
 *
 * (N values per channel). The forward pass runs the very kernels tfjs-layers runs (Mean, Sub,
 * Square, Mean, FusedBatchNorm), so outputs and batch statistics are the same numbers; the
 * gradients equal autodiff's to float rounding. Why: autodiff through moments and FusedBatchNorm
 * records about 90 kernels per batch-norm layer and step (each taped kernel also clones what it
 * saves), this about 25: InceptionV3 has 94 such layers, and on a GPU the step was host-bound.
 *
 * `onStats` receives the batch mean and variance inside the forward pass (where nothing is taped)
 * for the moving averages; they are disposed after it returns unless it `tf.keep`s them.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, onStats?: BatchStatsSink): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const count = x.size / x.shape[x.rank - 1]!;
  const op = tf.customGrad((xIn, gIn, bIn, save) => {
    const [xt, g, b] = [xIn, gIn, bIn] as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    // gamma is not saved (saving clones, one more kernel): the gradient runs within the same
    // tf.grad/variableGrads call as this forward pass, before any optimizer can change it.
    const saveFn = save as tf.GradSaveFunc;
    const mean = tf.mean(xt, axes) as tf.Tensor1D;
    const centred = tf.sub(xt, mean);
    const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
    // The FusedBatchNorm kernel that tf.batchNorm runs, without its two reshapes for rank 4.
    const y = xt.rank === 4
      ? tf.engine().runKernel(tf.FusedBatchNorm, { x: xt, mean, variance, scale: g, offset: b }, { varianceEpsilon: epsilon }) as tf.Tensor
      : tf.batchNorm(xt, mean, variance, b, g, epsilon);
    const invstd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const xhat = tf.mul(centred, invstd);
    onStats?.(mean, variance);
    saveFn([xhat, invstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [sxhat, sinvstd] = saved as [tf.Tensor, tf.Tensor1D];
        const dbeta = tf.sum(d, axes) as tf.Tensor1D;
        const dgamma = tf.sum(tf.mul(d, sxhat), axes) as tf.Tensor1D;
        const centred = tf.sub(tf.sub(d, tf.div(dbeta, count)), tf.mul(sxhat, tf.div(dgamma, count)));
        const dx = tf.mul(centred, tf.mul(g, sinvstd));
        return [dx, dgamma, dbeta];
      },
    };
  });
  // A named scope, so that profiles list the op as BatchNormTraining.
  return tf.tidy('BatchNormTraining', () => op(x, gamma, beta));
}

/** The parts of tfjs-layers' BatchNormalization this module needs (private fields in its typings). */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
}

function internals(layer: tf.layers.Layer): BatchNormInternals | undefined {
  if (layer.getClassName() !== 'BatchNormalization') return undefined;
  const l = layer as unknown as Partial<BatchNormInternals>;
  const ok = typeof l.axis === 'number' && typeof l.momentum === 'number' && typeof l.epsilon === 'number'
    && l.center === true && l.scale === true && typeof l.gamma?.read === 'function' && typeof l.beta?.read === 'function'
    && typeof l.movingMean?.write === 'function' && typeof l.movingVariance?.write === 'function';
  return ok ? (l as BatchNormInternals) : undefined;
}

/**
 * Makes every trainable BatchNormalization layer of `model` (with gamma and beta, normalizing the
 * last axis) run `batchNormTraining` when called with `training: true`; inference, and any layer
 * or input it does not fit, keeps tfjs-layers' own code. Moving mean and variance are updated
 * with the same formula (v − (v − batch)·(1 − momentum)), right away, or, given `movingAverages`,
 * queued there for one batched update after the step (the caller flushes it). Only the layer
 * instances change, not their class, config or weights, so saved models are the same. Returns the
 * number of layers changed and a function that restores them.
 */
export function useFastBatchNormTraining(model: tf.LayersModel, opts: { movingAverages?: MovingAverageBatch } = {}): { layers: number; restore: () => void } {
  const queue = opts.movingAverages;
  const restores: (() => void)[] = [];
  for (const layer of model.layers) {
    const bn = internals(layer);
    if (!bn) continue;
    const restore = patchLayerCall(layer, 'batch-norm-training', (original) => (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const lastAxis = x !== undefined && (bn.axis === -1 || bn.axis === x.rank - 1);
      if (kwargs['training'] !== true || !x || (Array.isArray(inputs) && inputs.length !== 1) || !lastAxis || x.rank < 2 || x.dtype !== 'float32') {
        return original(inputs, kwargs);
      }
      const decay = 1 - bn.momentum;
      return tf.tidy(() => batchNormTraining(x, bn.gamma!.read() as tf.Tensor1D, bn.beta!.read() as tf.Tensor1D, bn.epsilon, (mean, variance) => {
        for (const [variable, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const) {
          if (queue) {
            queue.add(variable, value, decay);
            continue;
          }
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
        }
      }));
    });
    if (restore) restores.push(restore);
  }
  return { layers: restores.length, restore: () => restores.forEach((r) => r()) };
}
