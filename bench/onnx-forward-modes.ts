/**
 * Frozen InceptionV3 without the feature cache on ONNX Runtime: the forward pass in a worker pool
 * (one single-threaded session per CPU, each worker also reading and decoding its images) against
 * one in-process session with an intra-op thread per CPU (the main thread reads), one epoch each,
 * from the serialized lmdb and from the JPEGs, side by side in one run. Uses the folder
 * `bench/train-exp3.ts --out DIR` left (DIR/lmdb, DIR/fx).
 *
 * `--wasm` adds tfjs-wasm's worker pool (the path before ONNX Runtime) from lmdb, for reference.
 *
 *   npx tsx bench/onnx-forward-modes.ts --work DIR [--epochs 1] [--wasm]
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { train } from '../src/train/train.js';

const { values } = parseArgs({ options: { work: { type: 'string' }, epochs: { type: 'string', default: '1' }, wasm: { type: 'boolean', default: false } } });
if (!values.work) throw new Error('--work DIR (a bench/train-exp3.ts --out folder) is required');
const work = values.work, epochs = Number(values.epochs);
const sources = {
  lmdb: { source: 'lmdb', data: join(work, 'lmdb') },
  images: { source: 'images', images: join(work, 'fx', 'train'), labels: join(work, 'fx', 'trainLabels.csv') },
} as const;
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log('| source | forward | epoch s | data wait s | compute s | setup s | CPU s (process, whole run) |');
console.log('|---|---|---|---|---|---|---|');
const conditions: [string, (typeof sources)[keyof typeof sources], string, boolean][] = [
  ['lmdb', sources.lmdb, 'onnxruntime', true], ['lmdb', sources.lmdb, 'onnxruntime', false],
  ['images', sources.images, 'onnxruntime', true], ['images', sources.images, 'onnxruntime', false],
];
if (values.wasm) conditions.push(['lmdb', sources.lmdb, 'wasm', true]);
for (const [name, src, backend, pool] of conditions) {
  {
    const c0 = process.cpuUsage();
    const r = await train({
      ...src, model: 'inception-v3', epochs, batchSize: 32, backend, cacheFeatures: false, poolForward: pool,
      out: join(work, `modes-${name}-${backend}-${pool ? 'pool' : 'intra'}`), force: true, cacheDir: join(work, 'cache-modes'),
    });
    const cpu = process.cpuUsage(c0);
    const e = r.epochs.reduce((a, x) => ({ s: a.s + x.seconds, w: a.w + x.dataWaitSeconds, c: a.c + x.computeSeconds }), { s: 0, w: 0, c: 0 });
    console.log(`| ${name} | ${backend}: ${pool ? `worker pool (${r.epochs[0]!.forwardWorkers})` : 'one session, intra-op threads'} | ${(e.s / epochs).toFixed(2)} | ${(e.w / epochs).toFixed(2)} | ${(e.c / epochs).toFixed(2)} | ${r.timing.setupSeconds.toFixed(1)} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} |`);
  }
}
