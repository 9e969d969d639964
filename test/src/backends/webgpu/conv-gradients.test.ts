/**
 * The op-composed convolution gradients must equal the stock tfjs kernels (relative L2 <= 1e-5)
 * on the shapes InceptionV3 trains: 1x1, 3x3, 5x5, 1x7, 7x1, 1x3, 3x1, strides 1-2, same/valid,
 * batch > 1. References come from the cpu backend's own Conv2DBackpropFilter/Input kernels; the
 * composed code runs on cpu and on wasm (whose build lacks a filter-gradient kernel).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2dBackpropFilterMatMul, type Conv2DPad } from '../../../../src/backends/webgpu/conv-backprop-filter.js';
import { conv2dBackpropInputConv } from '../../../../src/backends/webgpu/conv-backprop-input.js';
import { registerFastConvGradients } from '../../../../src/backends/webgpu/fast-conv-kernels.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  strides: number | [number, number];
  pad: Conv2DPad;
}

// InceptionV3's spatial sizes, kernels, strides and padding. The pure-JS reference kernel runs at
// only ~5 MFLOP/s here, so the default suite narrows the channels; RETINA_FULL_GRAD_TESTS=1 runs
// InceptionV3's own channel counts as well (about 4 minutes on 2 cores).
const CASES: Case[] = [
  { name: 'stem 3x3/2 valid 299x299x3->4', x: [2, 299, 299, 3], k: [3, 3], co: 4, strides: 2, pad: 'valid' },
  { name: 'stem 3x3/1 valid 149x149x4->4', x: [2, 149, 149, 4], k: [3, 3], co: 4, strides: 1, pad: 'valid' },
  { name: 'stem 3x3/1 same 147x147x4->4', x: [2, 147, 147, 4], k: [3, 3], co: 4, strides: 1, pad: 'same' },
  { name: 'mixed0 1x1 35x35x64->32', x: [2, 35, 35, 64], k: [1, 1], co: 32, strides: 1, pad: 'same' },
  { name: 'mixed0 5x5 same 35x35x8->8', x: [2, 35, 35, 8], k: [5, 5], co: 8, strides: 1, pad: 'same' },
  { name: 'mixed3 3x3/2 valid 35x35x32->32', x: [2, 35, 35, 32], k: [3, 3], co: 32, strides: 2, pad: 'valid' },
  { name: 'mixed4 1x7 same 17x17x32->32', x: [2, 17, 17, 32], k: [1, 7], co: 32, strides: 1, pad: 'same' },
  { name: 'mixed4 7x1 same 17x17x24->48', x: [3, 17, 17, 24], k: [7, 1], co: 48, strides: 1, pad: 'same' },
  { name: 'mixed8 3x3/2 valid 17x17x32->48', x: [2, 17, 17, 32], k: [3, 3], co: 48, strides: 2, pad: 'valid' },
  { name: 'mixed9 1x3 same 8x8x64->64', x: [2, 8, 8, 64], k: [1, 3], co: 64, strides: 1, pad: 'same' },
  { name: 'mixed9 3x1 same 8x8x64->64', x: [2, 8, 8, 64], k: [3, 1], co: 64, strides: 1, pad: 'same' },
  { name: 'asymmetric: 3x3/2 same 9x10x5->7', x: [3, 9, 10, 5], k: [3, 3], co: 7, strides: 2, pad: 'same' },
  { name: 'mixed strides [1,2] 5x5 valid 12x13x4->6', x: [2, 12, 13, 4], k: [5, 5], co: 6, strides: [1, 2], pad: 'valid' },
  { name: 'explicit padding 3x3 11x11x3->5', x: [2, 11, 11, 3], k: [3, 3], co: 5, strides: 2, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
];

const FULL_CASES: Case[] = [
  { name: 'full: stem 3x3/2 valid 299x299x3->32', x: [2, 299, 299, 3], k: [3, 3], co: 32, strides: 2, pad: 'valid' },
  { name: 'full: stem 3x3/1 same 147x147x32->64', x: [1, 147, 147, 32], k: [3, 3], co: 64, strides: 1, pad: 'same' },
  { name: 'full: mixed0 1x1 35x35x192->64', x: [2, 35, 35, 192], k: [1, 1], co: 64, strides: 1, pad: 'same' },
  { name: 'full: mixed0 5x5 same 35x35x48->64', x: [2, 35, 35, 48], k: [5, 5], co: 64, strides: 1, pad: 'same' },
  { name: 'full: mixed3 3x3/2 valid 35x35x288->384', x: [2, 35, 35, 288], k: [3, 3], co: 384, strides: 2, pad: 'valid' },
  { name: 'full: mixed4 1x7 same 17x17x128->128', x: [2, 17, 17, 128], k: [1, 7], co: 128, strides: 1, pad: 'same' },
  { name: 'full: mixed4 7x1 same 17x17x128->192', x: [2, 17, 17, 128], k: [7, 1], co: 192, strides: 1, pad: 'same' },
  { name: 'full: mixed8 3x3/2 valid 17x17x192->320', x: [2, 17, 17, 192], k: [3, 3], co: 320, strides: 2, pad: 'valid' },
  { name: 'full: mixed9 1x3 same 8x8x384->384', x: [2, 8, 8, 384], k: [1, 3], co: 384, strides: 1, pad: 'same' },
];
if (process.env['RETINA_FULL_GRAD_TESTS'] === '1') CASES.push(...FULL_CASES);

function relL2(actual: Float32Array, expected: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = (actual[i] ?? NaN) - (expected[i] ?? NaN);
    num += d * d;
    den += (expected[i] ?? 0) ** 2;
  }
  return Math.sqrt(num / den);
}

interface Prepared {
  c: Case;
  xData: Float32Array;
  dyData: Float32Array;
  wData: Float32Array;
  dyShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  refFilter: Float32Array;
  refInput: Float32Array;
}

/** Random inputs and the stock cpu kernels' gradients for one case. */
function prepare(c: Case, seed: number): Prepared {
  return tf.tidy(() => {
    const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.co];
    const x = tf.randomNormal(c.x, 0, 1, 'float32', seed) as tf.Tensor4D;
    const w = tf.randomNormal(filterShape, 0, 1, 'float32', seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2) as tf.Tensor4D;
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
    const refFilter = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    const refInput = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w },
      { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return {
      c, filterShape, dyShape: dy.shape,
      xData: x.dataSync() as Float32Array, dyData: dy.dataSync() as Float32Array, wData: w.dataSync() as Float32Array,
      refFilter: refFilter.dataSync() as Float32Array, refInput: refInput.dataSync() as Float32Array,
    };
  });
}

let prepared: Prepared[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  prepared = CASES.map((c, i) => prepare(c, 1000 + i * 10));
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`conv gradients composed of fast ops on ${backend}`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backend)).toBe(true);
    });

    for (const [i, c] of CASES.entries()) {
      it(`filter gradient, im2col and taps: ${c.name}`, () => {
        const p = prepared[i]!;
        const before = tf.memory().numTensors;
        for (const strategy of ['im2col', 'taps'] as const) {
          const got = tf.tidy(() => {
            const x = tf.tensor4d(p.xData, c.x);
            const dy = tf.tensor4d(p.dyData, p.dyShape);
            return conv2dBackpropFilterMatMul(x, dy, { filterShape: p.filterShape, strides: c.strides, pad: c.pad }, { strategy });
          });
          expect(got.shape).toEqual(p.filterShape);
          expect(relL2(got.dataSync() as Float32Array, p.refFilter)).toBeLessThanOrEqual(1e-5);
          got.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      });

      it(`input gradient: ${c.name}`, () => {
        const p = prepared[i]!;
        const got = tf.tidy(() => {
          const dy = tf.tensor4d(p.dyData, p.dyShape);
          const w = tf.tensor4d(p.wData, p.filterShape);
          return conv2dBackpropInputConv(dy, w, { inputShape: c.x, strides: c.strides, pad: c.pad });
        });
        expect(got.shape).toEqual(c.x);
        expect(relL2(got.dataSync() as Float32Array, p.refInput)).toBeLessThanOrEqual(1e-5);
        got.dispose();
      });
    }

    it('chunks the batch and splits K without changing the result', () => {
      const p = prepared.find((q) => q.c.name.startsWith('mixed0 5x5'))!; // 2 x 35x35x8 -> 8, 5x5
      const c = p.c;
      const variants = [
        { maxPatchBytes: 1, strategy: 'im2col' as const }, // one image per chunk
        { maxPatchBytes: 35 * 35 * 8 * 25 * 4 + 1, strategy: 'im2col' as const, splits: 49 },
        { maxPatchBytes: 1, strategy: 'taps' as const, splits: 35 * 35 },
        { maxPatchBytes: 1, strategy: 'auto' as const }, // im2col would need chunks: taps
        { strategy: 'auto' as const }, // fits: im2col
      ];
      for (const v of variants) {
        const got = tf.tidy(() => conv2dBackpropFilterMatMul(tf.tensor4d(p.xData, c.x), tf.tensor4d(p.dyData, p.dyShape),
          { filterShape: p.filterShape, strides: c.strides, pad: c.pad }, v));
        expect(relL2(got.dataSync() as Float32Array, p.refFilter)).toBeLessThanOrEqual(1e-5);
        got.dispose();
      }
    });

    it('rejects a dy that does not match the convolution', () => {
      expect(() => tf.tidy(() => conv2dBackpropFilterMatMul(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, tf.zeros([1, 7, 8, 4]) as tf.Tensor4D,
        { filterShape: [3, 3, 3, 4], strides: 1, pad: 'same' }))).toThrow(/does not match/);
    });
  });
}

describe('registered as kernels, they drive tf.grad', () => {
  it('wasm: gradients of a conv net equal the cpu reference, without leaking tensors', async () => {
    // A tiny two-conv network: the gradient w.r.t. both filters needs Conv2DBackpropFilter for
    // both layers and Conv2DBackpropInput between them.
    const shapes = { x: [2, 17, 17, 6] as const, w1: [3, 3, 6, 8] as const, w2: [1, 7, 8, 5] as const };
    const loss = (x: tf.Tensor4D) => (w1: tf.Tensor, w2: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 2, 'valid')), w2 as tf.Tensor4D, 1, 'same')));
    const data = tf.tidy(() => ({
      x: tf.randomNormal([...shapes.x], 0, 1, 'float32', 7).dataSync(),
      w1: tf.randomNormal([...shapes.w1], 0, 1, 'float32', 8).dataSync(),
      w2: tf.randomNormal([...shapes.w2], 0, 1, 'float32', 9).dataSync(),
    }));
    const grads = (): Float32Array[] => {
      const x = tf.tensor4d(data.x, [...shapes.x]);
      const w1 = tf.tensor4d(data.w1, [...shapes.w1]);
      const w2 = tf.tensor4d(data.w2, [...shapes.w2]);
      const gs = tf.grads(loss(x))([w1, w2]);
      const out = gs.map((g) => g.dataSync() as Float32Array);
      tf.dispose([x, w1, w2, ...gs]);
      return out;
    };
    await tf.setBackend('cpu');
    const expected = grads();
    await tf.setBackend('wasm');
    const restore = registerFastConvGradients('wasm', { filter: 'im2col', input: 'conv' });
    try {
      grads(); // warm-up: the first call may allocate backend caches
      const before = tf.memory().numTensors;
      const got = grads();
      expect(tf.memory().numTensors).toBe(before);
      for (const [i, g] of got.entries()) expect(relL2(g, expected[i]!)).toBeLessThanOrEqual(1e-5);
    } finally {
      restore();
    }
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBeDefined(); // the stock one is back
  });
});
