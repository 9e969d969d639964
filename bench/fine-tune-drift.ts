/**
 * How far the fine-tuner's training drifts from tfjs' own path over several steps, against how
 * far tfjs' own path drifts from itself when its input is perturbed at float rounding level
 * (x·(1 + 2⁻²³)): both start from the same weights, so the second figure is the natural
 * amplification of rounding by training, the yardstick for the first.
 *
 *   npx tsx bench/fine-tune-drift.ts [--model inception-v3|small-cnn] [--batch 2] [--steps 4] [--lr 1e-4]
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backends/backend-registry.js';
import { createFineTuner } from '../src/train/fine-tuner.js';
import { assemble, buildBackbone, buildHead, type ModelName } from '../src/train/models/model-registry.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'inception-v3' }, batch: { type: 'string', default: '2' }, steps: { type: 'string', default: '4' }, lr: { type: 'string', default: '1e-4' }, backend: { type: 'string', default: 'wasm' } } });
const model = values.model as ModelName;
const batch = Number(values.batch), steps = Number(values.steps), lr = Number(values.lr);
await selectBackend(values.backend);

async function run(stock: boolean, perturb: boolean): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const backbone = await buildBackbone({ model, seed: 1, trainable: true, ...(model === 'small-cnn' ? { inputShape: [64, 64, 3] as [number, number, number] } : {}) });
  const head = buildHead(backbone.featureDim, 1);
  const full = assemble(backbone.model, head);
  const tuner = createFineTuner(full, { lr, microBatch: batch, stock });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x0 = tf.randomUniform([batch, ...backbone.inputShape], -1, 1, 'float32', 100 + s);
    const x = perturb ? tf.mul(x0, 1 + 2 ** -23) : x0;
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i + s) % 5), 'int32'), 5);
    const l = tuner.step(x, y);
    losses.push((await l.data())[0]!);
    tf.dispose([x0, x, y, l]);
  }
  const weights = await Promise.all(full.getWeights().map(async (w) => (await w.data()) as Float32Array));
  tuner.dispose();
  full.dispose();
  head.layer.dispose();
  return { losses, weights };
}

function weightDrift(a: Float32Array[], b: Float32Array[]): number {
  let n = 0, d = 0;
  a.forEach((w, i) => w.forEach((v, j) => { n += (v - b[i]![j]!) ** 2; d += v ** 2; }));
  return Math.sqrt(n / d);
}

const stock = await run(true, false);
const perturbed = await run(true, true);
const fast = await run(false, false);
console.log(`${model}, batch ${batch}, lr ${lr}, ${steps} steps, backend ${values.backend}`);
console.log('step  loss stock   perturbed    fast        |perturbed-stock|  |fast-stock|');
for (let s = 0; s < steps; s++) {
  const [a, b, c] = [stock.losses[s]!, perturbed.losses[s]!, fast.losses[s]!];
  console.log(`${String(s + 1).padStart(4)}  ${a.toFixed(6)}   ${b.toFixed(6)}   ${c.toFixed(6)}   ${(Math.abs(b - a) / a).toExponential(2).padStart(16)}  ${(Math.abs(c - a) / a).toExponential(2).padStart(12)}`);
}
console.log(`weights after ${steps} steps, relative L2 distance from stock: perturbed ${weightDrift(perturbed.weights, stock.weights).toExponential(2)}, fast ${weightDrift(fast.weights, stock.weights).toExponential(2)}`);
