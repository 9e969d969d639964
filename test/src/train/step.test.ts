import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { trainStep, variablesOf } from '../../../src/train/step.js';

function model(): tf.LayersModel {
  const input = tf.input({ shape: [6] });
  const h = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('trainStep', () => {
  it('accumulating micro-batch gradients gives the same update and loss as the whole batch', async () => {
    await selectBackend('wasm');
    const x = tf.randomNormal([6, 6], 0, 1, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5);
    const a = model(), b = model();
    const la = trainStep(a, tf.train.adam(0.01), variablesOf(a), x, y, 6);
    const lb = trainStep(b, tf.train.adam(0.01), variablesOf(b), x, y, 4); // micro-batches of 4 + 2
    expect((await lb.data())[0]).toBeCloseTo((await la.data())[0]!, 5);
    const wa = a.getWeights(), wb = b.getWeights();
    for (let i = 0; i < wa.length; i++) {
      const d = (await tf.max(tf.abs(tf.sub(wa[i]!, wb[i]!))).data())[0]!;
      expect(d).toBeLessThan(1e-5);
    }
    // and the step moved the weights
    const fresh = model().getWeights();
    expect((await tf.max(tf.abs(tf.sub(wa[0]!, fresh[0]!))).data())[0]).toBeGreaterThan(1e-3);
  });
});
