import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { batchNormTraining, useFastBatchNormTraining } from '../../../src/train/batch-norm-training.js';

function relL2(a: Float32Array, b: Float32Array): number {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) {
    n += (a[i]! - b[i]!) ** 2;
    d += b[i]! ** 2;
  }
  return Math.sqrt(n / Math.max(d, 1e-30));
}

/** conv → BN → ReLU → conv → BN, built the same way twice (seeded), as InceptionV3's units are. */
function model(name: string): tf.LayersModel {
  const input = tf.input({ shape: [6, 5, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: 3, epsilon: 1e-3, momentum: 0.9, gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 2 }), betaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name });
}

/** Loss, gradients of every trainable weight, and the BN moving statistics after one forward. */
async function lossAndGrads(m: tf.LayersModel, x: tf.Tensor, r: tf.Tensor) {
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, vars);
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array)),
    moving: await Promise.all(m.getWeights().map(async (w) => (await w.data()) as Float32Array)),
    names: m.weights.map((w) => w.originalName),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('batchNormTraining', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`gives autodiff's outputs, gradients and moving statistics (${backend})`, async () => {
      await selectBackend(backend);
      const x = tf.randomNormal([3, 6, 5, 3], 0.3, 2, 'float32', 5);
      const r = tf.randomNormal([3, 6, 5, 3], 0, 1, 'float32', 6);
      const stock = model('stock'), fast = model('fast');
      const patched = useFastBatchNormTraining(fast);
      expect(patched.layers).toBe(2);
      const want = await lossAndGrads(stock, x, r);
      const got = await lossAndGrads(fast, x, r);
      expect(got.loss).toBeCloseTo(want.loss, 4);
      expect(got.grads.length).toBe(6); // conv, gamma, beta, conv, gamma, beta
      for (let i = 0; i < want.grads.length; i++) {
        expect(relL2(got.grads[i]!, want.grads[i]!), `gradient ${i}`).toBeLessThan(2e-5);
        expect(Math.max(...Array.from(want.grads[i]!, Math.abs))).toBeGreaterThan(1e-3);
      }
      // The forward pass runs the very kernels tfjs-layers runs: equal moving statistics.
      for (let i = 0; i < want.moving.length; i++) expect(Array.from(got.moving[i]!), want.names[i]).toEqual(Array.from(want.moving[i]!));
      // Inference is tfjs-layers' own code.
      const pi = await (stock.predict(x) as tf.Tensor).data(), fi = await (fast.predict(x) as tf.Tensor).data();
      expect(Array.from(fi)).toEqual(Array.from(pi));
      patched.restore();
      expect(Object.hasOwn(fast.layers[2]!, 'call')).toBe(false);
      tf.dispose([x, r]);
      stock.dispose();
      fast.dispose();
    });
  }

  it('matches autodiff through moments on a rank-2 input, and leaks no tensors', async () => {
    await selectBackend('cpu');
    const x = tf.randomNormal([7, 4], 1, 3, 'float32', 7);
    const gamma = tf.randomUniform([4], 0.5, 2, 'float32', 8) as tf.Tensor1D;
    const beta = tf.randomNormal([4], 0, 1, 'float32', 9) as tf.Tensor1D;
    const r = tf.randomNormal([7, 4], 0, 1, 'float32', 10);
    const reference = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0]);
      return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-3))), g), b), r));
    };
    const before = tf.memory().numTensors;
    const stats: number[][] = [];
    const fast = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, (m, v) => {
      stats.push(Array.from(m.dataSync()), Array.from(v.dataSync()));
    }), r));
    const want = tf.grads(reference)([x, gamma, beta]);
    const got = tf.grads(fast)([x, gamma, beta]);
    for (let i = 0; i < 3; i++) expect(relL2(await got[i]!.data() as Float32Array, await want[i]!.data() as Float32Array)).toBeLessThan(2e-6);
    const { mean, variance } = tf.moments(x, [0]);
    expect(stats[0]!.map((v, i) => v - mean.dataSync()[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    expect(stats[1]!.map((v, i) => v - variance.dataSync()[i]!).every((d) => Math.abs(d) < 1e-5)).toBe(true);
    tf.dispose([...want, ...got, mean, variance]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta, r]);
  });
});
