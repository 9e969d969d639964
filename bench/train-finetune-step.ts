/**
 * One full InceptionV3 fine-tuning step (all layers, BN in training form) on the chosen backend,
 * with gradient accumulation over micro-batches as `retina train --fine-tune` does: proves the
 * path runs at 299x299 within the wasm heap and measures seconds per image.
 *
 *   npx tsx bench/train-finetune-step.ts [--backend wasm] [--batch 8] [--micro-batch 4] [--steps 2] [--stock]
 *
 * `--stock`: tfjs' own Adam and autodiff batch norm instead of retina's fine-tuner (same numbers,
 * about 4x the kernels; see src/train/fine-tuner.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backends/backend-registry.js';
import { assemble, buildBackbone, buildHead } from '../src/train/models/model-registry.js';
import { createFineTuner } from '../src/train/fine-tuner.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, batch: { type: 'string', default: '8' }, 'micro-batch': { type: 'string', default: '4' }, steps: { type: 'string', default: '2' }, stock: { type: 'boolean', default: false } } });
const batch = Number(values.batch), micro = Number(values['micro-batch']), steps = Number(values.steps);
const backend = await selectBackend(values.backend);
const backbone = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: true });
const full = assemble(backbone.model, buildHead(2048, 1));
const tuner = createFineTuner(full, { lr: 1e-4, microBatch: micro, stock: values.stock });
const x = tf.randomUniform([batch, 299, 299, 3], -1, 1, 'float32', 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 5), 'int32'), 5);
console.log(`backend ${backend.name}, ${values.stock ? 'stock tfjs path' : 'retina fine-tuner'}, ${full.countParams()} parameters, batch ${batch} in micro-batches of ${micro}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const value = tuner.step(x, y);
  const loss = (await value.data())[0]!;
  value.dispose();
  const sec = (performance.now() - t0) / 1000;
  console.log(`step ${s + 1}: loss ${loss.toFixed(4)}, ${sec.toFixed(1)} s, ${(sec / batch).toFixed(2)} s/image, wasm/tf memory ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB in tensors`);
}
