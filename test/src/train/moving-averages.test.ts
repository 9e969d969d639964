import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { useFastBatchNormTraining } from '../../../src/train/batch-norm-training.js';
import { MovingAverageBatch, type WritableWeight } from '../../../src/train/moving-averages.js';

/** A LayerVariable-like weight over a tf.Variable. */
function weight(values: number[], shape: number[]): WritableWeight & { v: tf.Variable } {
  const v = tf.variable(tf.tensor(values, shape));
  return { v, read: () => v, write: (t: tf.Tensor) => v.assign(t) };
}

function bnModel(name: string, momenta: number[]): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 2] });
  let x: tf.SymbolicTensor = input;
  momenta.forEach((momentum, i) => {
    x = tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: i + 1 }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum }).apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: x, name });
}

describe('MovingAverageBatch', () => {
  it('applies queued updates in order, per weight and decay, as one update at a time would', async () => {
    await selectBackend('cpu');
    const [a, b, c] = [weight([1, 2, 3], [3]), weight([4, 5, 6, 7], [2, 2]), weight([8], [1])];
    const [ra, rb, rc] = [weight([1, 2, 3], [3]), weight([4, 5, 6, 7], [2, 2]), weight([8], [1])];
    const updates: [number, number[], number][] = [[0, [0.5, -1, 2], 0.1], [1, [1, 1, 1, 1], 0.01], [0, [3, 3, 3], 0.1], [2, [-2], 0.3], [1, [0, 2, 0, 2], 0.01]];
    const q = new MovingAverageBatch();
    for (const [i, vals, decay] of updates) {
      const target = [a, b, c][i]!, ref = [ra, rb, rc][i]!;
      q.add(target, tf.tensor(vals, target.v.shape), decay);
      tf.tidy(() => {
        const orig = ref.read();
        ref.write(tf.sub(orig, tf.mul(tf.sub(orig, tf.tensor(vals, orig.shape)), decay)));
      });
    }
    expect(q.size).toBe(5);
    const before = tf.memory().numTensors;
    q.flush();
    expect(q.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before - 5); // the queued statistics are freed
    for (const [w, r] of [[a, ra], [b, rb], [c, rc]] as const) {
      expect(w.v.shape).toEqual(r.v.shape);
      expect(Array.from(await w.v.data())).toEqual(Array.from(await r.v.data()));
    }
    const d = new MovingAverageBatch();
    d.add(a, tf.tensor1d([9, 9, 9]), 0.5);
    d.discard();
    expect(Array.from(await a.v.data())).toEqual(Array.from(await ra.v.data()));
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`gives batch norm's moving statistics after two training passes, value for value (${backend})`, async () => {
      await selectBackend(backend);
      const stock = bnModel('stock', [0.99, 0.9]), fast = bnModel('fast', [0.99, 0.9]);
      const q = new MovingAverageBatch();
      const patch = useFastBatchNormTraining(fast, { movingAverages: q });
      for (const seed of [1, 2]) {
        const x = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', seed);
        tf.dispose([stock.apply(x, { training: true }) as tf.Tensor, fast.apply(x, { training: true }) as tf.Tensor, x]);
      }
      expect(q.size).toBe(8); // 2 layers x (mean, variance) x 2 passes
      q.flush();
      const ws = stock.getWeights(), wf = fast.getWeights();
      for (let i = 0; i < ws.length; i++) expect(Array.from(await wf[i]!.data()), stock.weights[i]!.originalName).toEqual(Array.from(await ws[i]!.data()));
      patch.restore();
      stock.dispose();
      fast.dispose();
    });
  }
});
