import * as tf from '@tensorflow/tfjs';
import type { GradientSum } from './step.js';
import { viewAs } from '../tensor-view.js';

/**
 * `tensors` as one flat vector, in order: one Concat kernel (the reshapes are views, see
 * `viewAs`). Not for use under gradient recording.
 */
export function concatFlat(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => (tensors.length === 1 ? viewAs<tf.Rank.R1>(tensors[0]!, [tensors[0]!.size]) : tf.concat(tensors.map((t) => viewAs<tf.Rank.R1>(t, [t.size])))));
}

/**
 * Adam, computing exactly what `tf.train.adam` computes (same formula, same operations in the
 * same order, same float32 constants, so the same numbers element for element), but on all
 * variables at once: gradients and values are concatenated into one flat vector, the moment and
 * update arithmetic runs once on it, and the result is split back into the variables.
 *
 * Why: tfjs' Adam runs about 13 kernels per variable (InceptionV3: 284 variables, 3,700 kernels
 * per step). On a GPU every kernel costs host time (engine bookkeeping, command encoding) whatever
 * its size, and a fine-tuning step there was host-bound. Here the update is about 20 kernels.
 *
 * The first and second moments live in two flat variables laid out in the order of the first
 * `applyGradients` call; every later call must update the same variables (the training step
 * always does), else it throws. Gradients that are null skip their variable, as tfjs does, but
 * only when they are null for the same variables every time.
 *
 * Not serialisable (`getWeights`/`setWeights` are tfjs' base-class ones, which throw): retina never
 * saves optimizer state.
 */
export class FlatAdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'FlatAdam';
  }

  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly accBeta1: tf.Variable;
  private readonly accBeta2: tf.Variable;
  private layout: { names: string[]; sizes: number[] } | undefined;
  private m: tf.Variable | undefined;
  private v: tf.Variable | undefined;

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super();
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    // tf.train.adam's default: the backend's epsilon at construction.
    this.epsilon = epsilon ?? tf.backend().epsilon();
    this.accBeta1 = tf.tidy(() => tf.scalar(beta1).variable(false));
    this.accBeta2 = tf.tidy(() => tf.scalar(beta2).variable(false));
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const pairs = (Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients)).filter(([, g]) => g != null);
    if (pairs.length === 0) return;
    const registered = tf.engine().registeredVariables;
    const values = pairs.map(([name]) => {
      const v = registered[name];
      if (!v) throw new Error(`FlatAdamOptimizer: no variable named ${name}`);
      return v;
    });
    const g = concatFlat(pairs.map(([, t]) => t));
    try {
      this.applyFlatGradient(values, g);
    } finally {
      g.dispose();
    }
  }

  /**
   * The update for `variables` from their gradients already concatenated in that order (see
   * `concatFlat`), e.g. summed over micro-batches as one vector: one Add per micro-batch instead
   * of one per variable.
   */
  applyFlatGradient(variables: readonly tf.Variable[], g: tf.Tensor1D): void {
    const names = variables.map((v) => v.name);
    const sizes = variables.map((v) => v.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (g.size !== total) throw new Error(`FlatAdamOptimizer: a flat gradient of ${g.size} values for variables holding ${total}`);
    if (!this.layout) {
      this.layout = { names, sizes };
      this.m = tf.tidy(() => tf.zeros([total]).variable(false));
      this.v = tf.tidy(() => tf.zeros([total]).variable(false));
    } else if (names.length !== this.layout.names.length || names.some((n, i) => n !== this.layout!.names[i])) {
      throw new Error(`FlatAdamOptimizer: its state is laid out for ${this.layout.names.length} variables (${this.layout.names.slice(0, 3).join(', ')}, ...); this update has ${names.length} (${names.slice(0, 3).join(', ')}, ...)`);
    }
    const m = this.m!, v = this.v!;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      // Each stage in its own tidy so that only a few flat temporaries are alive at a time (the
      // wasm heap is capped at 4 GiB; InceptionV3's flat vector is 87 MB).
      const newM = tf.tidy(() => tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
      const newV = tf.tidy(() => tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
      m.assign(newM);
      v.assign(newV);
      const step = tf.tidy(() => {
        const biasCorrectedFirstMoment = tf.div(newM, oneMinusAccBeta1);
        const biasCorrectedSecondMoment = tf.div(newV, oneMinusAccBeta2);
        return tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), this.epsilon)), -this.learningRate);
      });
      const newValues = tf.tidy(() => tf.add(step, concatFlat(variables)));
      step.dispose();
      const parts = variables.length === 1 ? [newValues] : tf.split(newValues, sizes);
      variables.forEach((value, i) => value.assign(viewAs(parts[i]!, value.shape)));
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([this.accBeta1, this.accBeta2]);
    if (this.m) tf.dispose([this.m, this.v!]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Micro-batch gradients of `variables` summed as one flat vector (one Concat and one Add per
 * micro-batch instead of an Add per variable; the same sums, element for element) and applied
 * with `FlatAdamOptimizer.applyFlatGradient`.
 */
export function flatGradientSum(variables: readonly tf.Variable[]): GradientSum {
  let total: tf.Tensor1D | undefined;
  return {
    add(grads) {
      try {
        const missing = variables.find((v) => !grads[v.name]);
        if (missing) throw new Error(`flatGradientSum: no gradient for ${missing.name}`);
        const flat = concatFlat(variables.map((v) => grads[v.name]!));
        if (!total) total = flat;
        else {
          const next = tf.add(total, flat);
          tf.dispose([total, flat]);
          total = next as tf.Tensor1D;
        }
      } finally {
        tf.dispose(Object.values(grads));
      }
    },
    applyTo(optimizer) {
      if (!total) return;
      // Not instanceof: tf.Optimizer's Symbol.hasInstance says yes to every optimizer.
      const flat = optimizer as Partial<FlatAdamOptimizer>;
      if (typeof flat.applyFlatGradient !== 'function') throw new Error('flatGradientSum needs a FlatAdamOptimizer');
      try {
        flat.applyFlatGradient.call(optimizer, variables, total);
      } finally {
        total.dispose();
        total = undefined;
      }
    },
  };
}
