import * as tf from '@tensorflow/tfjs';

/** Categorical cross-entropy of softmax outputs against one-hot labels, clipped like Keras. */
export function lossOf(probs: tf.Tensor, oneHot: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, 1e-7, 1))), -1))) as tf.Scalar;
}

/** The tf.Variables behind a model's trainable weights. */
export const variablesOf = (model: tf.LayersModel): tf.Variable[] => model.trainableWeights.map((w) => w.read() as tf.Variable);

/** Gradients summed over micro-batches; how they are held and added is up to the implementation. */
export interface GradientSum {
  /** Adds one micro-batch's gradients (variable name → gradient) and takes them over (frees them). */
  add(grads: tf.NamedTensorMap): void;
  /** Applies the sum with `optimizer`, then frees it. */
  applyTo(optimizer: tf.Optimizer): void;
}

/** The sum kept per variable: one Add kernel per variable and micro-batch. */
export function perVariableSum(): GradientSum {
  let total: tf.NamedTensorMap | undefined;
  return {
    add(grads) {
      if (!total) {
        total = grads;
        return;
      }
      for (const k of Object.keys(grads)) {
        const sum = total[k]!.add(grads[k]!);
        total[k]!.dispose();
        grads[k]!.dispose();
        total[k] = sum;
      }
    },
    applyTo(optimizer) {
      if (!total) return;
      optimizer.applyGradients(total as unknown as Record<string, tf.Variable>);
      tf.dispose(Object.values(total));
      total = undefined;
    },
  };
}

/**
 * One optimizer step of `model` (training mode: BN uses batch statistics and updates its moving
 * ones) on batch `x`/`y`, computing gradients `microBatch` images at a time and summing them
 * (`sum`, default per variable), so one update still sees the whole batch while the wasm heap
 * (4 GiB, about 800 MB per InceptionV3 image) holds only a micro-batch's activations. Returns the
 * batch's mean loss.
 */
export function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, vars: tf.Variable[], x: tf.Tensor, y: tf.Tensor, microBatch: number, sum: GradientSum = perVariableSum()): tf.Scalar {
  const n = x.shape[0]!;
  if (microBatch >= n) return optimizer.minimize(() => lossOf(model.apply(x, { training: true }) as tf.Tensor, y), true, vars)!;
  let lossSum: tf.Tensor = tf.scalar(0);
  for (let s = 0; s < n; s += microBatch) {
    const m = Math.min(microBatch, n - s);
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => lossOf(
      model.apply(x.slice(s, m), { training: true }) as tf.Tensor, y.slice(s, m)).mul(m / n) as tf.Scalar), vars);
    const nextLoss = lossSum.add(value);
    lossSum.dispose();
    value.dispose();
    lossSum = nextLoss;
    sum.add(grads);
  }
  sum.applyTo(optimizer);
  return lossSum as tf.Scalar;
}
