import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src/backends/backend-registry.js';

type Case = { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'same' | 'valid' };

const CASES: Case[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 10, 11, 3], f: [3, 3, 3, 4], stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 5], f: [1, 7, 5, 2], stride: 1, pad: 'same' },
  { x: [1, 9, 9, 2], f: [7, 1, 2, 3], stride: 1, pad: 'same' },
  { x: [2, 17, 17, 4], f: [3, 3, 4, 6], stride: 2, pad: 'same' },
  { x: [1, 12, 12, 2], f: [5, 5, 2, 3], stride: 3, pad: 'same' },
  { x: [3, 7, 7, 6], f: [1, 1, 6, 5], stride: 1, pad: 'valid' },
];

/** Relative L2 distance of b from a. */
function relL2(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let num = 0, den = 0;
  for (let j = 0; j < a.length; j++) { num += (a[j]! - b[j]!) ** 2; den += a[j]! ** 2; }
  return Math.sqrt(num / den);
}

/** The input gradient (dL/dx) of each case, and of an explicitly padded stride-2 convolution. */
async function inputGrads(backend: string): Promise<Float32Array[]> {
  await selectBackend(backend);
  const out: Float32Array[] = [];
  const cases: Array<Omit<Case, 'pad'> & { pad: Case['pad'] | tf.backend_util.ExplicitPadding }> = [
    ...CASES, { x: [2, 11, 10, 3], f: [3, 3, 3, 4], stride: 2, pad: [[0, 0], [1, 0], [0, 2], [0, 0]] },
  ];
  for (const c of cases) {
    const x0 = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal(c.f, 0, 1, 'float32', 2) as tf.Tensor4D;
    const outShape = tf.conv2d(x0, w, c.stride, c.pad).shape;
    const dy = tf.randomNormal(outShape, 0, 1, 'float32', 3);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w, c.stride, c.pad), dy)))(x0);
    expect(g.shape).toEqual(c.x);
    out.push(await g.data() as Float32Array);
  }
  return out;
}

async function filterGrads(backend: string): Promise<Float32Array[]> {
  await selectBackend(backend);
  const out: Float32Array[] = [];
  for (const c of CASES) {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const w0 = tf.randomNormal(c.f, 0, 1, 'float32', 2) as tf.Tensor4D;
    const outShape = tf.conv2d(x, w0, c.stride, c.pad).shape;
    const dy = tf.randomNormal(outShape, 0, 1, 'float32', 3);
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.stride, c.pad), dy)))(w0);
    out.push(await g.data() as Float32Array);
  }
  return out;
}

describe('wasm Conv2DBackpropFilter', () => {
  it('matches the cpu backend on 1x1 to 7x7 filters, strides 1-3, same and valid padding', async () => {
    const cpu = await filterGrads('cpu');
    const wasm = await filterGrads('wasm');
    cpu.forEach((a, i) => {
      const b = wasm[i]!;
      expect(b.length).toBe(a.length);
      let num = 0, den = 0;
      for (let j = 0; j < a.length; j++) { num += (a[j]! - b[j]!) ** 2; den += a[j]! ** 2; }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
    });
  });
});

describe('wasm Conv2DBackpropInput (a forward convolution through XNNPACK instead of the stock loop)', () => {
  it('matches the cpu backend on 1x1 to 7x7 filters, strides 1-3, same, valid and explicit padding', async () => {
    const cpu = await inputGrads('cpu');
    const wasm = await inputGrads('wasm');
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    cpu.forEach((a, i) => expect(relL2(a, wasm[i]!), `case ${i}`).toBeLessThan(1e-5));
  });

  it('leaves no tensor data behind', async () => {
    await selectBackend('wasm');
    const x = tf.randomNormal([2, 17, 17, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 9, 9, 6], 0, 1, 'float32', 3) as tf.Tensor4D;
    // The backend's own count: temporaries of a kernel never reach the engine's tensor count.
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    const before = backend.numDataIds();
    const dx = tf.conv2dTranspose(dy, w, [2, 17, 17, 4], 2, 'same');
    expect(dx.shape).toEqual([2, 17, 17, 4]);
    dx.dispose();
    expect(backend.numDataIds()).toBe(before);
  });
});
