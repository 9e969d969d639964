import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { createFineTuner } from '../../../src/train/fine-tuner.js';
import { lossOf } from '../../../src/train/step.js';
import { assemble, buildBackbone, buildHead } from '../../../src/train/models/model-registry.js';

/** small-cnn + head, as `retina train --model small-cnn --fine-tune` builds it. */
async function grader(): Promise<tf.LayersModel> {
  const backbone = await buildBackbone({ model: 'small-cnn', seed: 1, trainable: true, inputShape: [24, 24, 3] });
  return assemble(backbone.model, buildHead(backbone.featureDim, 1));
}

function batch(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomUniform([n, 24, 24, 3], -1, 1, 'float32', seed);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i + seed) % 5), 'int32'), 5);
  return { x, y };
}

async function kernelsPerStep(step: () => tf.Scalar): Promise<{ total: number; byName: Map<string, number> }> {
  tf.dispose(step()); // the first step creates the optimizer state
  const p = await tf.profile(() => {
    tf.dispose(step());
  });
  const byName = new Map<string, number>();
  for (const k of p.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  return { total: p.kernels.length, byName };
}

describe('createFineTuner', () => {
  it('trains small-cnn to the stock path\'s losses and weights (wasm, micro-batches)', async () => {
    await selectBackend('wasm');
    const a = await grader(), b = await grader();
    const stock = createFineTuner(a, { lr: 1e-3, microBatch: 3, stock: true });
    const fast = createFineTuner(b, { lr: 1e-3, microBatch: 3 });
    expect(fast.fastBatchNormLayers).toBe(4);
    const start = await Promise.all(a.getWeights().map((w) => w.data()));
    for (let s = 0; s < 4; s++) {
      const { x, y } = batch(5, s + 1);
      const ls = stock.step(x, y), lf = fast.step(x, y);
      const [vs, vf] = [(await ls.data())[0]!, (await lf.data())[0]!];
      expect(Math.abs(vf - vs) / vs, `loss of step ${s + 1}`).toBeLessThan(1e-4);
      tf.dispose([x, y, ls, lf]);
    }
    // Every weight (moving statistics included) took the same path: what separates the two is
    // float rounding in the gradients, at most 1e-5 of how far four steps moved the weights (measured).
    const wa = a.getWeights(), wb = b.getWeights();
    for (let i = 0; i < wa.length; i++) {
      const [va, vb] = [await wa[i]!.data(), await wb[i]!.data()];
      let diff = 0, moved = 0;
      for (let j = 0; j < va.length; j++) {
        diff = Math.max(diff, Math.abs(vb[j]! - va[j]!));
        moved = Math.max(moved, Math.abs(va[j]! - start[i]![j]!));
      }
      expect(moved, a.weights[i]!.originalName).toBeGreaterThan(1e-4);
      expect(diff / moved, a.weights[i]!.originalName).toBeLessThan(1e-4); // measured: at most 1e-5
    }
    stock.dispose();
    fast.dispose();
    a.dispose();
    b.dispose();
  });

  it('runs less than half the kernels per step of the stock path', async () => {
    await selectBackend('wasm');
    const a = await grader(), b = await grader();
    const stock = createFineTuner(a, { lr: 1e-3, microBatch: 2, stock: true });
    const fast = createFineTuner(b, { lr: 1e-3, microBatch: 2 });
    const { x, y } = batch(2, 9);
    const s = await kernelsPerStep(() => stock.step(x, y));
    const f = await kernelsPerStep(() => fast.step(x, y));
    // Counted on 2026-11-26: stock 654, fast 200 (small-cnn, 14 variables, 4 BN layers).
    expect(s.total).toBeGreaterThan(600);
    expect(f.total).toBeLessThan(215);
    expect(f.byName.get('Tile') ?? 0).toBe(0); // the FusedBatchNorm gradient is gone
    expect(f.byName.get('Sqrt')).toBe(1); // Adam's square root: once, not once per variable
    tf.dispose([x, y]);
    stock.dispose();
    fast.dispose();
    a.dispose();
    b.dispose();
  });

  it('covers every InceptionV3 unit: 94 batch norms, 94 convolutions', async () => {
    await selectBackend('wasm');
    const backbone = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: true });
    const head = buildHead(2048, 1);
    const full = assemble(backbone.model, head);
    const tuner = createFineTuner(full, { lr: 1e-4, microBatch: 1 });
    expect([tuner.fastBatchNormLayers, tuner.plainConvLayers, tuner.vars.length]).toEqual([94, 94, 284]);
    tuner.dispose();
    full.dispose();
    head.layer.dispose();
  });

  // About a minute on two cores: InceptionV3 at 299x299, two gradient passes and four steps.
  it.runIf(process.env['RETINA_FULL_GRAD_TESTS'] === '1')('InceptionV3: the stock gradients, and a quarter of the stock kernels per step', async () => {
    await selectBackend('wasm');
    const x = tf.randomUniform([2, 299, 299, 3], -1, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([2, 4], 'int32'), 5);
    const backbone = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: true });
    const head = buildHead(2048, 1);
    const full = assemble(backbone.model, head);
    const vars = full.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = async () => {
      const r = tf.variableGrads(() => lossOf(full.apply(x, { training: true }) as tf.Tensor, y), vars);
      const out = { loss: (await r.value.data())[0]!, grads: await Promise.all(vars.map(async (v) => (await r.grads[v.name]!.data()) as Float32Array)) };
      tf.dispose([r.value, ...Object.values(r.grads)]);
      return out;
    };
    const want = await grads();
    const fast = createFineTuner(full, { lr: 1e-4, microBatch: 2 });
    const got = await grads();
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-6);
    let worst = 0;
    want.grads.forEach((w, i) => {
      let n = 0, d = 0;
      for (let j = 0; j < w.length; j++) {
        n += (got.grads[i]![j]! - w[j]!) ** 2;
        d += w[j]! ** 2;
      }
      worst = Math.max(worst, Math.sqrt(n / d));
    });
    expect(worst).toBeLessThan(1e-4); // measured 2e-5 (a BN offset whose sum nearly cancels)
    const fastCount = await kernelsPerStep(() => fast.step(x, y));
    fast.dispose();
    const stock = createFineTuner(full, { lr: 1e-4, microBatch: 2, stock: true });
    const stockCount = await kernelsPerStep(() => stock.step(x, y));
    stock.dispose();
    // Counted on 2026-11-26 at batch 1: stock 13,057, fast 3,181.
    expect(stockCount.total).toBeGreaterThan(12_000);
    expect(fastCount.total).toBeLessThan(3_300);
    tf.dispose([x, y]);
    full.dispose();
    head.layer.dispose();
  }, 600_000);
});
