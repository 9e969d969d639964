import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { FlatAdamOptimizer, flatGradientSum } from '../../../src/train/flat-adam.js';
import { trainStep, variablesOf } from '../../../src/train/step.js';

const SHAPES: number[][] = [[3, 3, 2, 4], [4], [7, 5], [1], [2, 1, 3]];

/** Variables with fixed seeded values, named per run so two sets can live side by side. */
function variables(tag: string): tf.Variable[] {
  return SHAPES.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 10 + i), true, `${tag}_v${i}`));
}

/** A loss that touches every variable non-linearly, so gradients differ from step to step. */
function loss(vars: tf.Variable[], step: number): tf.Scalar {
  return tf.tidy(() => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.square(tf.sub(v, 0.1 * (i + 1))), tf.sin(tf.add(v, step)))))) as tf.Scalar);
}

async function train(opt: tf.Optimizer, vars: tf.Variable[], steps: number): Promise<Float32Array[]> {
  for (let s = 0; s < steps; s++) tf.dispose(opt.minimize(() => loss(vars, s), true, vars));
  return Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
}

describe('FlatAdamOptimizer', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`gives tf.train.adam's variables after several steps, value for value (${backend})`, async () => {
      await selectBackend(backend);
      const a = variables(`stock_${backend}`), b = variables(`flat_${backend}`);
      const stock = tf.train.adam(0.05), flat = new FlatAdamOptimizer(0.05);
      const before = tf.memory().numTensors;
      const want = await train(stock, a, 6);
      const got = await train(flat, b, 6);
      for (let i = 0; i < want.length; i++) {
        expect(got[i]!.length).toBe(want[i]!.length);
        // Same operations in the same order on the same float32 values: equal, not just close.
        expect(Array.from(got[i]!)).toEqual(Array.from(want[i]!));
      }
      // and the variables did move
      const start = await variables(`fresh_${backend}`)[0]!.data();
      expect(Math.max(...Array.from(got[0]!, (v, j) => Math.abs(v - start[j]!)))).toBeGreaterThan(0.1);
      expect(flat.iterations).toBe(6);
      // No tensors leak per step beyond the optimizer's own state (m, v: one each, flat).
      stock.dispose();
      flat.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + SHAPES.length * 2 + 5);
      tf.dispose([...a, ...b]);
    });
  }

  it('accepts a name → gradient map, skips null gradients, and refuses another set of variables', async () => {
    await selectBackend('cpu');
    const [v0, v1] = [tf.variable(tf.tensor1d([1, 2]), true, 'map_a'), tf.variable(tf.tensor1d([3]), true, 'map_b')];
    const opt = new FlatAdamOptimizer(0.5);
    opt.applyGradients({ map_a: tf.tensor1d([1, -1]), map_b: tf.tensor1d([2]) });
    // Adam's first step moves each value by lr against the gradient's sign.
    expect(Array.from(await v0.data())).toEqual([expect.closeTo(0.5, 5), expect.closeTo(2.5, 5)]);
    expect((await v1.data())[0]).toBeCloseTo(2.5, 5);
    expect(() => opt.applyGradients({ map_a: tf.tensor1d([1, 1]) })).toThrow(/laid out for 2 variables/);
    opt.dispose();
    // A variable whose gradient is null is left alone, as tfjs' Adam does.
    const skip = new FlatAdamOptimizer(0.5);
    skip.applyGradients([{ name: 'map_a', tensor: tf.tensor1d([1, 1]) }, { name: 'map_b', tensor: null as unknown as tf.Tensor }]);
    expect((await v1.data())[0]).toBeCloseTo(2.5, 5);
    expect(Array.from(await v0.data())).toEqual([expect.closeTo(0, 4), expect.closeTo(2, 4)]);
    skip.dispose();
    tf.dispose([v0, v1]);
  });
});

describe('flatGradientSum', () => {
  function model(): tf.LayersModel {
    const input = tf.input({ shape: [6] });
    const h = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('sums micro-batch gradients to what the per-variable sum gives, value for value (wasm)', async () => {
    await selectBackend('wasm');
    const x = tf.randomNormal([7, 6], 0, 1, 'float32', 3);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1], 'int32'), 5);
    const a = model(), b = model();
    const va = variablesOf(a), vb = variablesOf(b);
    const stock = tf.train.adam(0.01), flat = new FlatAdamOptimizer(0.01);
    for (let s = 0; s < 3; s++) {
      const la = trainStep(a, stock, va, x, y, 3); // micro-batches of 3 + 3 + 1
      const lb = trainStep(b, flat, vb, x, y, 3, flatGradientSum(vb));
      expect((await lb.data())[0]).toBe((await la.data())[0]);
      tf.dispose([la, lb]);
    }
    const wa = a.getWeights(), wb = b.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(await wb[i]!.data())).toEqual(Array.from(await wa[i]!.data()));
    const sum = flatGradientSum(vb);
    expect(() => sum.add({ [vb[0]!.name]: tf.zerosLike(vb[0]!) })).toThrow(/no gradient for/);
    const other = flatGradientSum(vb);
    other.add(Object.fromEntries(vb.map((v) => [v.name, tf.onesLike(v)])));
    expect(() => other.applyTo(stock)).toThrow(/needs a FlatAdamOptimizer/);
    tf.dispose([x, y]);
  });
});
