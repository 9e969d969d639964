import * as tf from '@tensorflow/tfjs';
import { useFastBatchNormTraining } from './batch-norm-training.js';
import { usePlainConvTraining } from './conv-training.js';
import { FlatAdamOptimizer, flatGradientSum } from './flat-adam.js';
import { MovingAverageBatch } from './moving-averages.js';
import { withSharedTapeSaves } from './tape-views.js';
import { trainStep, variablesOf } from './step.js';

export interface FineTunerOptions {
  /** Adam's learning rate. */
  lr: number;
  /** Images per gradient computation; gradients are summed up to the whole batch. */
  microBatch: number;
  /**
   * tfjs' own Adam and autodiff batch norm instead of the flat Adam and analytic batch norm
   * (same numbers, about 4x the kernels per step): for comparisons and benchmarks.
   */
  stock?: boolean;
}

/** The full fine-tuning step of `retina train --fine-tune`, bound to one model. */
export interface FineTuner {
  readonly vars: tf.Variable[];
  readonly optimizer: tf.Optimizer;
  /** Batch-norm layers that train with the analytic gradient (0 with `stock`). */
  readonly fastBatchNormLayers: number;
  /** Bias-free Conv2D layers that train as plain Conv2D (0 with `stock`). */
  readonly plainConvLayers: number;
  /** One optimizer step on `x`/`y` (one-hot); returns the batch's mean loss. */
  step(x: tf.Tensor, y: tf.Tensor): tf.Scalar;
  /** Frees the optimizer state and gives the batch-norm layers their own code back. */
  dispose(): void;
}

/**
 * Set up full fine-tuning of `model` (every trainable weight, batch norm in training mode) with
 * about a quarter of tfjs' kernels per step, which is what a GPU step's host time scales with:
 * Adam over all variables as one flat vector (`FlatAdamOptimizer`, with micro-batch gradients
 * summed flat by `flatGradientSum`), batch norm with its analytic
 * gradient and its moving averages applied once per step (`useFastBatchNormTraining`,
 * `MovingAverageBatch`), bias-free convolutions as plain Conv2D (`usePlainConvTraining`), and the
 * tape's saved tensors shared instead of cloned (`withSharedTapeSaves`). Each
 * gives tfjs' numbers: equal values, or gradients equal to float rounding (tests compare them).
 */
export function createFineTuner(model: tf.LayersModel, opts: FineTunerOptions): FineTuner {
  const stock = opts.stock ?? false;
  const optimizer: tf.Optimizer = stock ? tf.train.adam(opts.lr) : new FlatAdamOptimizer(opts.lr);
  const movingAverages = new MovingAverageBatch();
  const none = { layers: 0, restore: () => {} };
  const bn = stock ? none : useFastBatchNormTraining(model, { movingAverages });
  const conv = stock ? none : usePlainConvTraining(model);
  const vars = variablesOf(model);
  return {
    vars,
    optimizer,
    fastBatchNormLayers: bn.layers,
    plainConvLayers: conv.layers,
    step: (x, y) => {
      try {
        if (stock) return trainStep(model, optimizer, vars, x, y, opts.microBatch);
        return withSharedTapeSaves(() => trainStep(model, optimizer, vars, x, y, opts.microBatch, flatGradientSum(vars)));
      } finally {
        // The moving statistics of the layers that ran, as tfjs-layers would have left them.
        movingAverages.flush();
      }
    },
    dispose: () => {
      movingAverages.discard();
      conv.restore();
      bn.restore();
      optimizer.dispose();
    },
  };
}
