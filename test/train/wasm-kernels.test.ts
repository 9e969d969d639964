import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/train/backend.js';

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
