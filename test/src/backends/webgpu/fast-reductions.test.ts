/**
 * Sum/Mean over leading axes as batched products with ones must equal the stock kernels
 * (relative L2 <= 1e-5) and hand everything else to them unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { leadingReduction, registerFastReductions } from '../../../../src/backends/webgpu/fast-reductions.js';

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) { n += ((a[i] ?? NaN) - (b[i] ?? NaN)) ** 2; d += (b[i] ?? 0) ** 2; }
  return Math.sqrt(n / d);
}

const CASES: Array<{ shape: number[]; axis: number | number[] | null; keepDims: boolean; op: 'sum' | 'mean'; dtype?: 'int32' }> = [
  { shape: [8, 37, 37, 16], axis: [0, 1, 2], keepDims: false, op: 'sum' }, // BN statistics of an NHWC activation
  { shape: [8, 37, 37, 16], axis: [0, 1, 2], keepDims: true, op: 'mean' },
  { shape: [8, 37, 37, 16], axis: [-4, -3, -2], keepDims: false, op: 'mean' },
  { shape: [4, 35, 35, 3], axis: [0, 1, 2], keepDims: false, op: 'sum' },
  { shape: [300, 100], axis: null, keepDims: false, op: 'sum' }, // everything: a scalar
  { shape: [8209, 3], axis: 0, keepDims: false, op: 'sum' }, // prime length: no split
  { shape: [8, 37, 37, 16], axis: [1, 2], keepDims: false, op: 'mean' }, // not leading: stock
  { shape: [16, 16, 4], axis: [0, 1], keepDims: false, op: 'sum' }, // short: stock
  { shape: [64, 64, 4], axis: [0, 1], keepDims: false, op: 'sum', dtype: 'int32' }, // int: stock
];

describe('leadingReduction', () => {
  it('recognises reductions over axes 0..k-1 only', () => {
    expect(leadingReduction([2, 3, 4, 5], [0, 1, 2])).toEqual({ reduced: 24, kept: 5 });
    expect(leadingReduction([2, 3, 4, 5], [-4, 1])).toEqual({ reduced: 6, kept: 20 });
    expect(leadingReduction([2, 3, 4, 5], null)).toEqual({ reduced: 120, kept: 1 });
    expect(leadingReduction([2, 3, 4, 5], [1, 2])).toBeUndefined();
    expect(leadingReduction([2, 3, 4, 5], [0, 2])).toBeUndefined();
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fast Sum/Mean on ${backend}`, () => {
    it('equal the stock kernels, keep shapes and dtypes, leak nothing', async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      const inputs = CASES.map((c, i) => {
        const t = tf.randomNormal(c.shape, 3, 2, 'float32', 50 + i); // a mean far from 0, as activations have
        const v = c.dtype === 'int32' ? tf.cast(tf.mul(t, 10), 'int32') : t;
        if (v !== t) t.dispose();
        return v;
      });
      const run = () => CASES.map((c, i) => {
        const y = c.op === 'sum' ? tf.sum(inputs[i]!, c.axis ?? undefined, c.keepDims) : tf.mean(inputs[i]!, c.axis ?? undefined, c.keepDims);
        const out = { shape: y.shape, dtype: y.dtype, data: Array.from(y.dataSync()) };
        y.dispose();
        return out;
      });
      const expected = run();
      const restore = registerFastReductions(backend);
      try {
        run(); // warm-up
        const before = tf.memory().numTensors;
        const got = run();
        expect(tf.memory().numTensors).toBe(before);
        for (const [i, g] of got.entries()) {
          expect(g.shape, JSON.stringify(CASES[i])).toEqual(expected[i]!.shape);
          expect(g.dtype).toBe(expected[i]!.dtype);
          expect(relL2(g.data, expected[i]!.data), JSON.stringify(CASES[i])).toBeLessThanOrEqual(1e-5);
        }
        // and through a gradient: batch-norm-like statistics of a conv output
        const x = inputs[0]!;
        const f = (v: tf.Tensor) => tf.sum(tf.square(tf.sub(v, tf.mean(v, [0, 1, 2], true))));
        const g1 = tf.grad(f)(x).dataSync();
        restore();
        const g0 = tf.grad(f)(x).dataSync();
        expect(relL2(g1, g0)).toBeLessThanOrEqual(1e-5);
      } finally {
        tf.dispose(inputs);
      }
    });
  });
}
