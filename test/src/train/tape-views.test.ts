import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { withSharedTapeSaves } from '../../../src/train/tape-views.js';

function model(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.maxPooling2d({ poolSize: 2 }).apply(a) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 4, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(b) as tf.SymbolicTensor;
  const d = tf.layers.concatenate().apply([tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor, tf.layers.globalMaxPooling2d({}).apply(b) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(d) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('withSharedTapeSaves', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`gives the same gradients with fewer kernels and no leaked tensors (${backend})`, async () => {
      await selectBackend(backend);
      const m = model();
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 4);
      const grads = () => {
        const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.log(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        const out = [value, ...vars.map((v) => g[v.name]!)].map((t) => Array.from(t.dataSync()));
        tf.dispose([value, ...Object.values(g)]);
        return out;
      };
      const count = (fn: () => unknown) => tf.profile(() => { fn(); }).then((p) => p.kernels.filter((k) => k.name !== 'Identity').length + ':' + p.kernels.filter((k) => k.name === 'Identity').length);
      const before = tf.memory().numTensors;
      const want = grads();
      expect(tf.memory().numTensors).toBe(before);
      const got = withSharedTapeSaves(grads);
      expect(tf.memory().numTensors).toBe(before);
      expect(got).toEqual(want);
      const [plainOther, plainIdentity] = (await count(grads)).split(':').map(Number);
      const [sharedOther, sharedIdentity] = (await count(() => withSharedTapeSaves(grads))).split(':').map(Number);
      expect(sharedOther).toBe(plainOther); // the same kernels otherwise
      expect(plainIdentity).toBeGreaterThan(10);
      expect(sharedIdentity).toBeLessThan(plainIdentity! / 4);
      // The engine is left as it was, also when the step throws.
      expect(() => withSharedTapeSaves(() => { throw new Error('boom'); })).toThrow('boom');
      expect(Object.hasOwn(tf.engine(), 'saveTensorsForBackwardMode')).toBe(false);
      tf.dispose(x);
      m.dispose();
    });
  }
});
