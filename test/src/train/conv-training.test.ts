import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { usePlainConvTraining } from '../../../src/train/conv-training.js';

/** Conv2D units as InceptionV3 builds them (no bias, linear), plus one the patch must leave alone. */
function model(name: string): tf.LayersModel {
  const input = tf.input({ shape: [11, 9, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: [1, 3], padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 3, kernelSize: [3, 1], padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 2, kernelSize: 1, useBias: true, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name });
}

async function run(m: tf.LayersModel, x: tf.Tensor, r: tf.Tensor): Promise<Float32Array[]> {
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, vars);
  const out = [await value.data() as Float32Array, ...await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array))];
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('usePlainConvTraining', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`gives the fused op's loss and gradients, and fewer kernels (${backend})`, async () => {
      await selectBackend(backend);
      const x = tf.randomNormal([2, 11, 9, 3], 0, 1, 'float32', 1);
      const stock = model('stock'), plain = model('plain');
      const r = tf.randomNormal((stock.outputs[0]!.shape as number[]).map((d) => d ?? 2), 0, 1, 'float32', 2);
      const patch = usePlainConvTraining(plain);
      expect(patch.layers).toBe(3); // the biased relu conv keeps tfjs-layers' code
      const want = await run(stock, x, r);
      const got = await run(plain, x, r);
      expect(got.length).toBe(6); // loss + 3 kernels + last kernel and bias
      for (let i = 0; i < want.length; i++) expect(Array.from(got[i]!), `output ${i}`).toEqual(Array.from(want[i]!));
      const count = async (m: tf.LayersModel) => (await tf.profile(async () => {
        tf.dispose(await run(m, x, r).then(() => []));
      })).kernels.length;
      expect(await count(plain)).toBeLessThanOrEqual(await count(stock) - 2 * 3);
      patch.restore();
      expect(await count(plain)).toBe(await count(stock));
      tf.dispose([x, r]);
      stock.dispose();
      plain.dispose();
    });
  }
});
