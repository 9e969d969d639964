import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { countKernels } from '../../../src/train/kernel-counter.js';

describe('countKernels', () => {
  it('counts what tf.profile lists, by name, and unhooks the engine afterwards', async () => {
    await selectBackend('cpu');
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', 2));
    const work = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.relu(tf.matMul(x, w))) as tf.Scalar, [w]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    const profile = await tf.profile(work);
    const byName: Record<string, number> = {};
    for (const k of profile.kernels) byName[k.name] = (byName[k.name] ?? 0) + 1;
    const { count } = countKernels(work);
    expect(count.total).toBe(profile.kernels.length);
    expect(count.byName).toEqual(byName);
    expect(count.byName['BatchMatMul']).toBe(2); // forward + the gradient of w (x needs none)
    expect(countKernels(() => 1).count.total).toBe(0);
    expect(() => countKernels(() => { throw new Error('boom'); })).toThrow('boom');
    expect(countKernels(() => tf.dispose(tf.add(x, 1))).count).toEqual({ total: 1, byName: { Add: 1 } });
    tf.dispose([x, w]);
  });
});
