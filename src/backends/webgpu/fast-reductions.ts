/**
 * Sum and Mean over the leading axes (batch, height, width of an NHWC tensor: what batch norm
 * reduces in training and what every bias/BN gradient sums) as batched matrix products.
 *
 * tfjs-webgpu reduces with one workgroup per output value: summing a [32,147,147,64] activation
 * over N,H,W runs 64 workgroups, each walking 691,488 values one load at a time, so a single BN
 * statistic of InceptionV3's stem costs tens of milliseconds and a training step spends seconds
 * there. Viewed as [S, K, C] (a free reshape), the sum is ones[1,K] · X[s] for each of the S
 * slices, a batched matMul that fills the GPU, followed by a small sum over S.
 */
import * as tf from '@tensorflow/tfjs';
import { viewAs } from '../../tensor-view.js';
import { runComposed } from './fast-conv-kernels.js';
import { chooseSplits } from './split-k.js';

/** Reductions shorter than this stay with the backend's own kernel. */
export const MIN_FAST_REDUCE = 8192;

const SPLITS = { targetWorkgroups: 2048, minInner: 128, maxPartialBytes: 64 * 1024 * 1024 };

/** The leading-axes shape of a reduction: [R reduced values, C kept values], or undefined. */
export function leadingReduction(shape: readonly number[], axis: unknown): { reduced: number; kept: number } | undefined {
  const rank = shape.length;
  const raw = axis === null || axis === undefined ? [...shape.keys()] : Array.isArray(axis) ? axis : [axis];
  if (!raw.every((a) => Number.isInteger(a))) return undefined;
  const axes = [...new Set((raw as number[]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== i)) return undefined; // not 0..k-1
  const reduced = shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const kept = shape.slice(axes.length).reduce((a, b) => a * b, 1);
  return { reduced, kept };
}

/** Σ over the leading axes of x ([R, C] view) as a batched product with ones: returns [C]. */
export function sumLeading(x: tf.Tensor, reduced: number, kept: number): tf.Tensor1D {
  const s = chooseSplits(1, kept, reduced, SPLITS);
  const k = reduced / s;
  const parts = tf.matMul(tf.ones([1, 1, k]), viewAs<tf.Rank.R3>(x, [s, k, kept])); // [S, 1, C]
  return s === 1 ? viewAs<tf.Rank.R1>(parts, [kept]) : tf.sum<tf.Tensor1D>(viewAs<tf.Rank.R2>(parts, [s, kept]), 0);
}

function outShape(shape: readonly number[], leading: number, keepDims: boolean): number[] {
  return keepDims ? [...shape.slice(0, leading).map(() => 1), ...shape.slice(leading)] : shape.slice(leading);
}

/**
 * Replaces Sum and Mean for `backendName` with the batched-product version for float32 reductions
 * over leading axes of at least `minReduce` values; everything else goes to the previous kernel.
 * Returns a function that restores the previous registrations.
 */
export function registerFastReductions(backendName: string, minReduce = MIN_FAST_REDUCE): () => void {
  const restores: Array<() => void> = [];
  for (const kernelName of [tf.Sum, tf.Mean]) {
    const stock = tf.getKernel(kernelName, backendName);
    if (stock === undefined) continue;
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: (args) => {
        const x = args.inputs['x'];
        const attrs = args.attrs ?? {};
        const plan = x === undefined || x.dtype !== 'float32' ? undefined : leadingReduction(x.shape, attrs['axis']);
        if (x === undefined || plan === undefined || plan.reduced < minReduce) return stock.kernelFunc(args);
        const leading = leadingCount(x.shape, attrs['axis']);
        const shape = outShape(x.shape, leading, attrs['keepDims'] === true);
        return runComposed(args.backend as tf.KernelBackend, [x], (t) => {
          const total = sumLeading(t, plan.reduced, plan.kept);
          const r = kernelName === tf.Mean ? tf.div(total, plan.reduced) : total;
          return viewAs(r, shape);
        });
      },
    });
    restores.push(() => {
      tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel(stock);
    });
  }
  return () => {
    for (const r of restores.reverse()) r();
  };
}

function leadingCount(shape: readonly number[], axis: unknown): number {
  if (axis === null || axis === undefined) return shape.length;
  return new Set((Array.isArray(axis) ? axis : [axis]).map((a: number) => (a < 0 ? a + shape.length : a))).size;
}
