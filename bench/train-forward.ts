/**
 * InceptionV3 forward throughput (299x299, pooled 2048-d features) on the chosen backend: one
 * thread (batch 1/8/32, BN folded and not), then every usable core as worker threads (one tfjs
 * instance each, the feature cache's path), over random input.
 *
 *   npx tsx bench/train-forward.ts [--backend wasm] [--images 32] [--threads N]
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Piscina } from 'piscina';
import { usableCpus } from '../src/core/cpus.js';
import { selectBackend } from '../src/backends/backend-registry.js';
import { buildInceptionV3 } from '../src/train/models/inception-v3.js';
import { buildBackbone } from '../src/train/models/model-registry.js';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, images: { type: 'string', default: '32' }, threads: { type: 'string' }, worker: { type: 'boolean', default: false } } });
const n = Number(values.images);

async function timeForward(model: tf.LayersModel, batch: number, total: number): Promise<number> {
  const x = tf.randomUniform([batch, 299, 299, 3], -1, 1, 'float32', 1);
  (model.predict(x) as tf.Tensor).dispose(); // warm-up
  const t0 = performance.now();
  for (let done = 0; done < total; done += batch) {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
  }
  x.dispose();
  return (performance.now() - t0) / Math.ceil(total / batch) / batch;
}

/** Worker entry: build the folded backbone, time `n` images at batch 8, return ms/image. */
export default async function workerRun(task: { backend: string; n: number }): Promise<number> {
  await selectBackend(task.backend);
  const b = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false });
  return timeForward(b.model, 8, task.n);
}

if (!values.worker && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const backend = await selectBackend(values.backend);
  console.log(`backend ${backend.name}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const keras = buildInceptionV3({ mode: 'keras', seed: 1 });
  const folded = (await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false })).model;
  for (const [name, model] of [['BN', keras], ['folded', folded]] as const) {
    for (const batch of [1, 8, 32]) {
      const ms = await timeForward(model, batch, Math.max(batch, n));
      console.log(`one thread, ${name}, batch ${batch}: ${ms.toFixed(0)} ms/image, ${(1000 / ms).toFixed(2)} images/s`);
    }
  }
  const threads = usableCpus(values.threads === undefined ? undefined : Number(values.threads)).cpus;
  // Worker threads do not inherit tsx's loader: the .mjs entry registers it, then loads this file.
  const entry = new URL('./train-forward-worker.mjs', import.meta.url);
  const pool = new Piscina({ filename: entry.href, minThreads: threads, maxThreads: threads, argv: ['--worker'] });
  const t0 = performance.now();
  const per = await Promise.all(Array.from({ length: threads }, () => pool.run({ backend: backend.name, n }) as Promise<number>));
  const wall = (performance.now() - t0) / 1000;
  await pool.destroy();
  const ips = per.reduce((a, ms) => a + 1000 / ms, 0);
  console.log(`${threads} worker threads, folded, batch 8: ${per.map((ms) => ms.toFixed(0)).join(' / ')} ms/image per thread, ${ips.toFixed(2)} images/s together (wall ${wall.toFixed(1)} s incl. model builds)`);
}
