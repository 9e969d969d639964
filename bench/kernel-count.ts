/**
 * tfjs kernels per full fine-tuning step (what `retina train --fine-tune` runs), by kernel name,
 * with the stock path (tfjs' Adam, autodiff batch norm) and retina's (flat Adam, analytic batch
 * norm) side by side. On a GPU every kernel costs host time whatever its size, and a fine-tuning
 * step there was host-bound (BENCHMARKS.md, GPU), so the count is what this measures. Kernel
 * counts are deterministic; the times are not (and on a shared machine, noisy).
 *
 *   npx tsx bench/kernel-count.ts [--model inception-v3|small-cnn] [--batch 1] [--micro-batch N]
 *                                 [--path both|stock|fast] [--backend wasm] [--steps 3] [--json]
 *                                 [--gpu-kernels]
 *
 * Per path: a fresh model (seed 1), one warm-up step, one step under `tf.profile` (counts, and the
 * kernels' own time), then `--steps` timed steps without the profiler (wall ms per step, median).
 * `--gpu-kernels` registers the convolution-gradient kernels `retina train --backend webgpu` uses
 * (src/gpu: the filter gradient composed of tfjs ops, whose nested kernels count too) on the
 * wasm backend, so the count is what a GPU step dispatches through the engine.
 * On wasm every millisecond is host time; with small-cnn the arithmetic is negligible, so its step
 * time is mostly per-kernel overhead (engine, tape, JavaScript), what a GPU step pays per kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backends/backend-registry.js';
import { createFineTuner } from '../src/train/fine-tuner.js';
import { assemble, buildBackbone, buildHead, type ModelName } from '../src/train/models/model-registry.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'inception-v3' },
    batch: { type: 'string', default: '1' },
    'micro-batch': { type: 'string' },
    path: { type: 'string', default: 'both' },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    'gpu-kernels': { type: 'boolean', default: false },
  },
});
const model = values.model as ModelName;
if (model !== 'inception-v3' && model !== 'small-cnn') throw new Error(`--model: expected inception-v3 or small-cnn, got ${values.model}`);
const batch = Number(values.batch), steps = Number(values.steps);
const microBatch = values['micro-batch'] !== undefined ? Number(values['micro-batch']) : batch;
const paths = values.path === 'both' ? ['stock', 'fast'] as const : [values.path as 'stock' | 'fast'];

/** What one path measured. */
export interface KernelCountReport {
  path: 'stock' | 'fast';
  kernels: number;
  byName: Record<string, number>;
  /** The profiler's kernel time by kernel name (ms). */
  msByName: Record<string, number>;
  /** Σ of the profiler's per-kernel times in the profiled step. */
  kernelMs: number;
  /** Wall time of the profiled step (profiling adds its own cost). */
  profiledStepMs: number;
  /** Median wall time of the unprofiled steps. */
  stepMs: number;
  stepsMs: number[];
  fastBatchNormLayers: number;
  variables: number;
  loss: number;
  /** wasm only: the heap's size after this path's steps (it grows, never shrinks: run one path per process to compare). */
  wasmHeapMiB: number | null;
}

function wasmHeapMiB(): number | null {
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? +(heap.length / 2 ** 20).toFixed(0) : null;
}

async function measure(path: 'stock' | 'fast'): Promise<KernelCountReport> {
  const backbone = await buildBackbone({ model, seed: 1, trainable: true, ...(model === 'small-cnn' ? { inputShape: [64, 64, 3] as [number, number, number] } : {}) });
  const head = buildHead(backbone.featureDim, 1);
  const full = assemble(backbone.model, head);
  const tuner = createFineTuner(full, { lr: 1e-4, microBatch, stock: path === 'stock' });
  const x = tf.randomUniform([batch, ...backbone.inputShape], -1, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 5), 'int32'), 5);
  const run = async (): Promise<number> => {
    const l = tuner.step(x, y);
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  };
  let loss = await run(); // warm-up: creates the optimizer state, first-use costs
  const t = performance.now();
  const profile = await tf.profile(async () => {
    loss = await run();
  });
  const profiledStepMs = performance.now() - t;
  const byName: Record<string, number> = {};
  const msByName: Record<string, number> = {};
  let kernelMs = 0;
  for (const k of profile.kernels) {
    byName[k.name] = (byName[k.name] ?? 0) + 1;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    msByName[k.name] = (msByName[k.name] ?? 0) + ms;
    kernelMs += ms;
  }
  const stepsMs: number[] = [];
  for (let s = 0; s < steps; s++) {
    const ts = performance.now();
    await run();
    stepsMs.push(performance.now() - ts);
  }
  const sorted = [...stepsMs].sort((a, b) => a - b);
  const report: KernelCountReport = {
    path, kernels: profile.kernels.length,
    byName: Object.fromEntries(Object.entries(byName).sort((a, b) => b[1] - a[1])),
    msByName: Object.fromEntries(Object.entries(msByName).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +v.toFixed(1)])),
    kernelMs, profiledStepMs, stepMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, stepsMs,
    fastBatchNormLayers: tuner.fastBatchNormLayers, variables: tuner.vars.length, loss, wasmHeapMiB: wasmHeapMiB(),
  };
  tuner.dispose();
  tf.dispose([x, y]);
  full.dispose();
  head.layer.dispose();
  return report;
}

const backend = await selectBackend(values.backend);
if (values['gpu-kernels']) {
  // initWebGpu's defaults: filter gradient `auto` (composed), input gradient one kernel, no fast reductions.
  const { registerFastConvGradients } = await import('../src/backends/webgpu/fast-conv-kernels.js');
  registerFastConvGradients(backend.name, { filter: 'auto', input: 'stock' });
}
const reports: KernelCountReport[] = [];
for (const p of paths) reports.push(await measure(p));
const context = { model, batch, microBatch, backend: backend.name, gpuKernels: values['gpu-kernels'], steps, date: new Date().toISOString(), loadavg: loadavg().map((l) => +l.toFixed(2)) };
if (values.json) {
  console.log(JSON.stringify({ ...context, reports }, null, 2));
} else {
  console.log(`${model}, batch ${batch} (micro-batch ${microBatch}), backend ${backend.name}${values['gpu-kernels'] ? ' with the GPU\'s convolution-gradient kernels' : ''}, load average ${context.loadavg.join(' ')}`);
  const names = [...new Set(reports.flatMap((r) => Object.keys(r.byName)))]
    .sort((a, b) => Math.max(...reports.map((r) => r.byName[b] ?? 0)) - Math.max(...reports.map((r) => r.byName[a] ?? 0)));
  console.log(['kernel'.padEnd(28), ...reports.map((r) => r.path.padStart(9)), ...reports.map((r) => `${r.path} ms`.padStart(11))].join(''));
  for (const n of names) {
    console.log([n.padEnd(28), ...reports.map((r) => String(r.byName[n] ?? 0).padStart(9)), ...reports.map((r) => (r.msByName[n] ?? 0).toFixed(0).padStart(11))].join(''));
  }
  const row = (label: string, f: (r: KernelCountReport) => string) => console.log([label.padEnd(28), ...reports.map((r) => f(r).padStart(9))].join(''));
  row('TOTAL kernels/step', (r) => String(r.kernels));
  row('step ms (median)', (r) => r.stepMs.toFixed(0));
  row('step ms per kernel', (r) => (r.stepMs / r.kernels).toFixed(3));
  row('profiled step ms', (r) => r.profiledStepMs.toFixed(0));
  row('sum of kernel ms', (r) => r.kernelMs.toFixed(0));
  row('fast BN layers', (r) => String(r.fastBatchNormLayers));
  row('variables', (r) => String(r.variables));
  row('loss (2nd step)', (r) => r.loss.toFixed(5));
  row('wasm heap MiB', (r) => String(r.wasmHeapMiB ?? '-'));
}
