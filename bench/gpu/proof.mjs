#!/usr/bin/env node
// The GPU proof for issue 8, as one prepared script: InceptionV3 (tfjs, WebGPU) forward images/s
// at batch 32 and 128 (BN folded and not), convolution-gradient kernels (stock vs ours, speed and
// equality on the device), kernels and host time per fine-tuning step (tfjs' path vs retina's),
// full fine-tuning images/s with each kernel set, frozen-head training
// from a serialized dataset end to end, serialized vs JPEGs decoded every epoch, and full
// fine-tuning end to end. Every section runs in its own try/catch and results are written to
// $OUT/results.json after each one, so a timeout or a crash keeps what was measured.
//
// Run on the GPU node with the bundle's node (see proof.sh):
//   RETINA_APP=<bundle>/app OUT=<dir> <bundle>/bin/node bench/gpu/proof.mjs
// Dry run here (wasm, tiny sizes, checks every code path):
//   PROOF_DRY=1 RETINA_APP=$PWD OUT=/tmp/proof node bench/gpu/proof.mjs
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const APP = resolve(process.env.RETINA_APP ?? join(HERE, '..', '..'));
const OUT = resolve(process.env.OUT ?? '/tmp/retina-proof');
const DRY = process.env.PROOF_DRY === '1';
const BUDGET_S = Number(process.env.PROOF_BUDGET_S ?? (DRY ? 1200 : 250));
const ONLY = (process.env.PROOF_SECTIONS ?? '').split(',').filter(Boolean);
const T0 = performance.now();
mkdirSync(OUT, { recursive: true });

const results = { started: new Date().toISOString(), dry: DRY, node: process.version, cpus: cpus().length, sections: {} };
const elapsed = () => (performance.now() - T0) / 1000;
function log(...a) {
  const line = `[${elapsed().toFixed(1)}s] ${a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}`;
  console.error(line);
  appendFileSync(join(OUT, 'proof.log'), line + '\n');
}
function save() {
  results.elapsedSeconds = +elapsed().toFixed(1);
  writeFileSync(join(OUT, 'results.json.tmp'), JSON.stringify(results, null, 2));
  renameSync(join(OUT, 'results.json.tmp'), join(OUT, 'results.json'));
}
/** Runs one section unless the budget is spent; records its result or its error. */
async function section(name, needS, fn) {
  if (ONLY.length > 0 && !ONLY.includes(name)) return;
  if (elapsed() + needS > BUDGET_S) {
    results.sections[name] = { skipped: `needs ~${needS}s, ${(BUDGET_S - elapsed()).toFixed(0)}s left` };
    log(`skip ${name}`);
    save();
    return;
  }
  const t = performance.now();
  log(`== ${name}`);
  const rec = (results.sections[name] = {});
  try {
    await fn(rec);
    rec.ok = true;
  } catch (err) {
    rec.ok = false;
    rec.error = String(err?.stack ?? err).slice(0, 2000);
    log(`!! ${name}: ${String(err?.message ?? err)}`);
  }
  rec.seconds = +((performance.now() - t) / 1000).toFixed(1);
  save();
}

const req = createRequire(join(APP, 'package.json'));
const tf = req('@tensorflow/tfjs'); // the very instance retina's dist/ imports
const mod = (p) => import(pathToFileURL(join(APP, 'dist', p)).href);
const { initWebGpu } = await mod('src/backends/webgpu/webgpu.js');
const { registerFastConvGradients } = await mod('src/backends/webgpu/fast-conv-kernels.js');
const { registerFastReductions } = await mod('src/backends/webgpu/fast-reductions.js');
const { buildInceptionV3 } = await mod('src/train/models/inception-v3.js');
const { foldBatchNorm } = await mod('src/train/models/fold-batch-norm.js');
const { buildHead, assemble } = await mod('src/train/models/model-registry.js');

const B = DRY ? { fwd: [2], ft: 2, grad: 2, shapesBatch: 2, images: 16, valFraction: 0.25 } : { fwd: [32, 128], ft: 32, grad: 8, shapesBatch: 32, images: 200, valFraction: 0.1 };
const BACKEND = DRY ? 'wasm' : 'webgpu';

/** Timed repetitions of `fn` (which returns a tensor), synchronised by reading the result. */
async function timeIt(fn, { warm = 2, minReps = 3, maxReps = 20, minSeconds = 2 } = {}) {
  for (let i = 0; i < warm; i++) {
    const r = fn();
    await r.data();
    tf.dispose(r);
  }
  const times = [];
  const t = performance.now();
  while (times.length < maxReps && (times.length < minReps || (performance.now() - t) / 1000 < minSeconds)) {
    const s = performance.now();
    const r = fn();
    await r.data();
    tf.dispose(r);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return { medianMs: +times[Math.floor(times.length / 2)].toFixed(2), minMs: +times[0].toFixed(2), reps: times.length };
}

function relL2(a, b) {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) { n += (a[i] - b[i]) ** 2; d += b[i] ** 2; }
  return Math.sqrt(n / d);
}

const KERNEL_SETS = {
  stock: { filterGrad: 'stock', inputGrad: 'stock', fastReductions: false },
  'stock+reduce': { filterGrad: 'stock', inputGrad: 'stock', fastReductions: true },
  'im2col+mm': { filterGrad: 'im2col', inputGrad: 'mm', fastReductions: false },
  'taps+mm': { filterGrad: 'taps', inputGrad: 'mm', fastReductions: false },
  'im2col+conv': { filterGrad: 'im2col', inputGrad: 'conv', fastReductions: false },
  'auto+mm+reduce': { filterGrad: 'auto', inputGrad: 'mm', fastReductions: true },
  'im2col+mm+reduce': { filterGrad: 'im2col', inputGrad: 'mm', fastReductions: true },
  'taps+mm+reduce': { filterGrad: 'taps', inputGrad: 'mm', fastReductions: true },
  'auto+conv+reduce': { filterGrad: 'auto', inputGrad: 'conv', fastReductions: true },
};
const BEST = 'auto+mm+reduce';
let restoreDry;
async function useKernels(name) {
  const k = KERNEL_SETS[name];
  if (!DRY) return initWebGpu(k);
  restoreDry?.();
  const a = registerFastConvGradients('wasm', { filter: k.filterGrad === 'stock' ? 'auto' : k.filterGrad, input: k.inputGrad === 'conv' ? 'conv' : 'stock' });
  const b = k.fastReductions ? registerFastReductions('wasm') : () => {};
  restoreDry = () => { b(); a(); };
  return { kernels: k };
}

// ---------------------------------------------------------------------------------------------
await section('init', 60, async (rec) => {
  if (DRY) {
    await import(pathToFileURL(req.resolve('@tensorflow/tfjs-backend-wasm')).href);
    await tf.setBackend('wasm');
    rec.backend = tf.getBackend();
    return;
  }
  const info = await initWebGpu(KERNEL_SETS[BEST]);
  rec.adapter = info;
  rec.backend = tf.getBackend();
  rec.flags = { WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') };
  log('adapter', info);
  const n = 4096;
  const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
  const t = await timeIt(() => tf.matMul(a, b));
  rec.matmul4096 = { ...t, tflops: +((2 * n ** 3) / (t.medianMs / 1e3) / 1e12).toFixed(2) };
  tf.dispose([a, b]);
  log('matmul', rec.matmul4096);
});
if (tf.getBackend() !== BACKEND) {
  log(`backend ${BACKEND} not active (${tf.getBackend()}): stopping`);
  save();
  process.exit(3);
}

// ---------------------------------------------------------------------------------------------
// Kernels per full fine-tuning step and the host time they cost: tfjs' own path (tf.train.adam,
// autodiff batch norm) against retina's (flat Adam, analytic batch norm, batched moving averages,
// plain Conv2D: src/train/fine-tuner.ts), as `retina train --fine-tune` runs it. hostMs is the time
// until step() returns (JavaScript, engine bookkeeping, command encoding and submission), stepMs
// until the loss is read back (GPU work included). Also, on the device, the fast path's gradients
// against the stock path's on the same batch and weights. Needs a dist/ with fine-tuner.js
// (a bundle packed before it, or a dist-overlay).
const lossOf = (p, y) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), -1)));

/** Every variable's gradient of the loss on one batch (x, y), as plain arrays keyed by variable. */
async function gradientsOf(model, vars, x, y) {
  const { value, grads } = tf.variableGrads(() => lossOf(model.apply(x, { training: true }), y), vars);
  const out = {};
  for (const [k, t] of Object.entries(grads)) out[k] = await t.data();
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await section('fine_tune_kernels', 75, async (rec) => {
  const { createFineTuner } = await mod('src/train/fine-tuner.js');
  const { countKernels } = await mod('src/train/kernel-counter.js');
  await useKernels(BEST);
  // Dry run: the wasm kernels `retina train` registers (contiguous slices for the flat Adam split).
  if (DRY) (await mod('src/backends/wasm/wasm-kernels.js')).registerWasmTrainingKernels();
  const x = tf.randomUniform([B.ft, 299, 299, 3], -1, 1, 'float32', 5);
  const y = tf.oneHot(tf.randomUniform([B.ft], 0, 5, 'int32', 6), 5);
  rec.batch = B.ft;
  for (const path of ['fast', 'stock']) {
    if (elapsed() > BUDGET_S - 30) { rec[path] = { skipped: 'budget' }; continue; }
    const backbone = buildInceptionV3({ mode: 'trainable', seed: 1 });
    const head = buildHead(2048, 1);
    const model = assemble(backbone, head);
    const tuner = createFineTuner(model, { lr: 1e-4, microBatch: B.ft, stock: path === 'stock' });
    const r = (rec[path] = { fastBatchNormLayers: tuner.fastBatchNormLayers, variables: tuner.vars.length });
    try {
      const t0 = performance.now();
      const l0 = tuner.step(x, y);
      r.loss0 = (await l0.data())[0];
      l0.dispose();
      r.firstStepMs = +(performance.now() - t0).toFixed(0);
      const th = performance.now();
      const { result, count } = countKernels(() => tuner.step(x, y));
      r.countedHostMs = +(performance.now() - th).toFixed(1);
      r.loss1 = (await result.data())[0];
      result.dispose();
      r.kernelsPerStep = count.total;
      r.topKernels = Object.entries(count.byName).slice(0, 15);
      const host = [], wall = [];
      for (let i = 0; i < (DRY ? 1 : 3); i++) {
        const ts = performance.now();
        const l = tuner.step(x, y);
        host.push(performance.now() - ts);
        await l.data();
        wall.push(performance.now() - ts);
        l.dispose();
      }
      r.hostMs = +median(host).toFixed(1);
      r.stepMs = +median(wall).toFixed(1);
      r.hostMsPerKernel = +(r.hostMs / r.kernelsPerStep).toFixed(3);
      r.imagesPerSecond = +(B.ft / (r.stepMs / 1e3)).toFixed(1);
      log('fine-tune kernels', path, r);
    } finally {
      tuner.dispose();
      model.dispose();
      head.layer.dispose();
    }
    save();
  }
  if (rec.fast?.kernelsPerStep && rec.stock?.kernelsPerStep) {
    rec.kernelRatio = +(rec.stock.kernelsPerStep / rec.fast.kernelsPerStep).toFixed(2);
    rec.speedup = +(rec.stock.stepMs / rec.fast.stepMs).toFixed(2);
    rec.loss0RelDiff = Math.abs(rec.fast.loss0 - rec.stock.loss0) / rec.stock.loss0;
  }
  // Gradients of every variable on one batch, same weights: stock path, then the fast one.
  if (elapsed() < BUDGET_S - 30) {
    const backbone = buildInceptionV3({ mode: 'trainable', seed: 1 });
    const head = buildHead(2048, 1);
    const model = assemble(backbone, head);
    const vars = model.trainableWeights.map((w) => w.read());
    const xg = tf.randomUniform([B.grad, 299, 299, 3], -1, 1, 'float32', 3);
    const yg = tf.oneHot(tf.randomUniform([B.grad], 0, 5, 'int32', 4), 5);
    const grads = () => gradientsOf(model, vars, xg, yg);
    const ref = await grads();
    const tuner = createFineTuner(model, { lr: 1e-4, microBatch: B.grad });
    const got = await grads();
    let worst = 0, worstName = '';
    for (const k of Object.keys(ref)) { const e = relL2(got[k], ref[k]); if (e > worst) { worst = e; worstName = k; } }
    rec.gradientCheck = { batch: B.grad, worstRelL2: worst, worstVariable: worstName, variables: Object.keys(ref).length };
    log('fast vs stock gradients', rec.gradientCheck);
    tuner.dispose();
    tf.dispose([xg, yg]);
    model.dispose();
    head.layer.dispose();
  }
  tf.dispose([x, y]);
});

// ---------------------------------------------------------------------------------------------
// Convolution gradients of InceptionV3 layers at batch 32: each implementation's time and its
// relative L2 distance from the stock kernel's result, on the device.
const SHAPES = [
  { name: 'stem3 147x147x32->64 3x3 same', x: [147, 147, 32], k: [3, 3], co: 64, s: 1, pad: 'same' },
  { name: 'stem2 149x149x32->32 3x3 valid', x: [149, 149, 32], k: [3, 3], co: 32, s: 1, pad: 'valid' },
  { name: 'mixed0 35x35x192->64 1x1', x: [35, 35, 192], k: [1, 1], co: 64, s: 1, pad: 'same' },
  { name: 'mixed0 35x35x48->64 5x5', x: [35, 35, 48], k: [5, 5], co: 64, s: 1, pad: 'same' },
  { name: 'mixed3 35x35x288->384 3x3/2 valid', x: [35, 35, 288], k: [3, 3], co: 384, s: 2, pad: 'valid' },
  { name: 'mixed4 17x17x128->128 1x7', x: [17, 17, 128], k: [1, 7], co: 128, s: 1, pad: 'same' },
  { name: 'mixed9 8x8x1280->320 1x1', x: [8, 8, 1280], k: [1, 1], co: 320, s: 1, pad: 'same' },
  { name: 'mixed9 8x8x384->384 3x1', x: [8, 8, 384], k: [3, 1], co: 384, s: 1, pad: 'same' },
];
await section('conv_gradients', 90, async (rec) => {
  rec.batch = B.shapesBatch;
  rec.shapes = [];
  const shapes = DRY ? SHAPES.slice(2, 4) : SHAPES;
  for (const sh of shapes) {
    const r = { name: sh.name };
    rec.shapes.push(r);
    const x = tf.randomNormal([B.shapesBatch, ...sh.x]);
    const w = tf.randomNormal([...sh.k, sh.x[2], sh.co]);
    const dy = tf.tidy(() => tf.randomNormal(tf.conv2d(x, w, sh.s, sh.pad).shape));
    const flops = 2 * dy.size / sh.co * sh.co * sh.k[0] * sh.k[1] * sh.x[2];
    const attrs = { strides: sh.s, pad: sh.pad, dataFormat: 'NHWC', filterShape: w.shape };
    const filterGrad = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs);
    const inputGrad = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape });
    let refF, refI;
    for (const set of ['stock', 'im2col+mm', 'taps+mm', 'im2col+conv']) {
      if (DRY && set === 'stock') continue;
      await useKernels(set);
      const k = KERNEL_SETS[set];
      if (set !== 'im2col+conv') {
        const f = filterGrad(); const fv = await f.data(); tf.dispose(f);
        if (set === 'stock') refF = fv;
        const t = await timeIt(filterGrad, { warm: 1, minReps: 3, maxReps: 10, minSeconds: 0.5 });
        r[`filter_${k.filterGrad}`] = { ...t, gflops: +(flops / (t.medianMs / 1e3) / 1e9).toFixed(0), relL2VsStock: refF ? relL2(fv, refF) : null };
      }
      if (set !== 'taps+mm') {
        const i = inputGrad(); const iv = await i.data(); tf.dispose(i);
        if (set === 'stock') refI = iv;
        const t = await timeIt(inputGrad, { warm: 1, minReps: 3, maxReps: 10, minSeconds: 0.5 });
        r[`input_${k.inputGrad}`] = { ...t, gflops: +(flops / (t.medianMs / 1e3) / 1e9).toFixed(0), relL2VsStock: refI ? relL2(iv, refI) : null };
      }
    }
    tf.dispose([x, w, dy]);
    log(r);
    save();
  }
  await useKernels(BEST);
});

// ---------------------------------------------------------------------------------------------
await section('forward', 60, async (rec) => {
  const keras = buildInceptionV3({ mode: 'keras', seed: 1 });
  const folded = buildInceptionV3({ mode: 'folded', seed: 1, name: 'folded' });
  foldBatchNorm(keras, folded);
  for (const batch of B.fwd) {
    const x = tf.randomUniform([batch, 299, 299, 3], -1, 1);
    for (const [name, m] of [['bn', keras], ['folded', folded]]) {
      const t = await timeIt(() => m.predict(x), { warm: 2, minReps: 3, maxReps: 10, minSeconds: 2 });
      rec[`b${batch}_${name}`] = { ...t, imagesPerSecond: +(batch / (t.medianMs / 1e3)).toFixed(1) };
      log(`forward b${batch} ${name}`, rec[`b${batch}_${name}`]);
      save();
    }
    x.dispose();
  }
  keras.dispose();
  folded.dispose();
});

// ---------------------------------------------------------------------------------------------
await section('fine_tune_step', 150, async (rec) => {
  const backbone = buildInceptionV3({ mode: 'trainable', seed: 1 });
  const model = assemble(backbone, buildHead(2048, 1));
  const vars = model.trainableWeights.map((w) => w.read());
  rec.trainableParams = model.countParams();

  // Same batch, same weights: the gradients of every variable with the stock kernels and with ours.
  {
    const xg = tf.randomUniform([B.grad, 299, 299, 3], -1, 1, 'float32', 3);
    const yg = tf.oneHot(tf.randomUniform([B.grad], 0, 5, 'int32', 4), 5);
    const grads = () => gradientsOf(model, vars, xg, yg);
    if (!DRY) {
      await useKernels('stock');
      const ref = await grads();
      rec.gradientCheck = { batch: B.grad };
      for (const set of [BEST, 'im2col+mm']) {
        await useKernels(set);
        const got = await grads();
        let worst = 0, worstName = '';
        for (const k of Object.keys(ref)) { const e = relL2(got[k], ref[k]); if (e > worst) { worst = e; worstName = k; } }
        rec.gradientCheck[set] = { worstRelL2: worst, worstVariable: worstName, variables: Object.keys(ref).length };
        log('gradient check', set, rec.gradientCheck[set]);
      }
    }
    tf.dispose([xg, yg]);
    save();
  }

  const x = tf.randomUniform([B.ft, 299, 299, 3], -1, 1);
  const y = tf.oneHot(tf.randomUniform([B.ft], 0, 5, 'int32'), 5);
  const opt = tf.train.adam(1e-4);
  const step = () => opt.minimize(() => lossOf(model.apply(x, { training: true }), y), true, vars);
  const sets = DRY ? [BEST] : [BEST, 'stock+reduce', 'im2col+mm+reduce', 'taps+mm+reduce', 'auto+conv+reduce', 'im2col+mm', 'stock'];
  for (const set of sets) {
    if (elapsed() > BUDGET_S - 60) { rec[set] = { skipped: 'budget' }; continue; }
    await useKernels(set);
    const tw = performance.now();
    const l0 = step(); const loss0 = (await l0.data())[0]; l0.dispose();
    const firstMs = performance.now() - tw;
    const slow = firstMs > 3000; // the stock kernels: a few seconds per step
    const t = await timeIt(step, { warm: slow ? 0 : 1, minReps: slow ? 2 : 3, maxReps: 10, minSeconds: slow ? 0 : 4 });
    rec[set] = { batch: B.ft, firstStepMs: +firstMs.toFixed(0), ...t, imagesPerSecond: +(B.ft / (t.medianMs / 1e3)).toFixed(1), loss0 };
    log('fine-tune step', set, rec[set]);
    save();
  }
  // Where the time of one step goes, per shader (needs the timestamp-query feature).
  try {
    await useKernels(BEST);
    const ti = await tf.time(() => { tf.dispose(step()); });
    const info = typeof ti.getExtraProfileInfo === 'function' ? ti.getExtraProfileInfo() : '';
    const byName = {};
    for (const part of String(info).split(', ')) {
      const m = /^(.*): ([0-9.eE+-]+)$/.exec(part);
      if (!m) continue;
      byName[m[1]] = (byName[m[1]] ?? 0) + Number(m[2]);
    }
    rec.profile = { set: BEST, kernelMs: ti.kernelMs, wallMs: ti.wallMs,
      top: Object.entries(byName).sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => [k, +v.toFixed(2)]) };
    log('profile', rec.profile);
  } catch (err) {
    rec.profile = { error: String(err) };
  }
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  await useKernels(BEST);
});

// ---------------------------------------------------------------------------------------------
// A small serialized dataset (the seed's Experiment 3 size: 200 images), made here from
// generated fundus JPEGs with retina's own transform and writer.
const WORK = resolve(process.env.PROOF_WORK ?? '/tmp/retina-proof-work'); // large files stay out of $OUT
let dataset;
await section('dataset', 60, async (rec) => {
  const { generateFixtures } = await mod('fixtures/generate.js');
  const { formatNames } = await mod('formats/format-registry.js');
  const { createShardWriter, indexDataset } = await mod('formats/dataset.js');
  const { readLabels } = await mod('src/labels.js');
  const { assignSplits } = await mod('src/split.js');
  const { transformImage } = await mod('src/transform.js');
  const { mapLimit } = await mod('src/core/concurrency.js');
  const format = formatNames().includes('lmdb') ? 'lmdb' : 'raw';
  const fx = join(WORK, 'fixtures');
  const t = performance.now();
  const g = await generateFixtures({ out: fx, count: B.images, seed: 1, distribution: 'balanced', concurrency: Math.max(2, cpus().length) });
  rec.fixtures = { images: g.images, seconds: +((performance.now() - t) / 1000).toFixed(1), size: 'mixed (camera sizes / 4)' };
  const { rows } = await readLabels(g.labels);
  const splits = assignSplits(rows, B.valFraction, 1);
  const dir = join(WORK, `data-${format}`);
  const t2 = performance.now();
  const transform = { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' };
  const w = await createShardWriter(dir, format, { index: 0, count: 1, spec: { dtype: 'uint8', shape: [299, 299, 3] }, params: { crop: 'auto', normalize: 'none' } });
  const tensors = await mapLimit(rows, Math.max(2, cpus().length), (row) => transformImage(join(fx, 'train', `${row.id}.jpeg`), transform));
  for (const [i, row] of rows.entries()) await w.append({ id: row.id, label: row.label, split: splits.get(row.id) }, tensors[i]);
  await w.close();
  await indexDataset(dir);
  rec.format = format;
  rec.preprocessSeconds = +((performance.now() - t2) / 1000).toFixed(1);
  dataset = { format, dir, images: join(fx, 'train'), labels: g.labels };
  log('dataset', rec);
});

// ---------------------------------------------------------------------------------------------
async function trainRun(rec, key, opts) {
  const { train } = await mod('src/train/train.js');
  const t = performance.now();
  const r = await train({
    model: 'inception-v3', epochs: DRY ? 1 : 3, batchSize: B.ft, backend: BACKEND, seed: 1, force: true,
    out: join(WORK, `run-${key}`), cacheDir: join(WORK, `cache-${key}`), ...opts,
  });
  rec[key] = {
    wallSeconds: +((performance.now() - t) / 1000).toFixed(1), backend: r.backend, source: r.source, fineTune: r.fineTune,
    imagesPerSecond: +r.imagesPerSecond.toFixed(1), timing: r.timing, featureCache: r.featureCache && { seconds: r.featureCache.seconds, threads: r.featureCache.threads, hit: r.featureCache.hit },
    epochs: r.epochs.map((e) => ({ epoch: e.epoch, seconds: +e.seconds.toFixed(2), dataWaitSeconds: +e.dataWaitSeconds.toFixed(2), computeSeconds: +e.computeSeconds.toFixed(2), imagesPerSecond: +e.imagesPerSecond.toFixed(1), trainLoss: +e.trainLoss.toFixed(4), valKappa: +e.valKappa.toFixed(3) })),
  };
  log(key, rec[key]);
  save();
}

await section('frozen_e2e', 60, async (rec) => {
  if (!dataset) throw new Error('no dataset');
  rec.epochs = DRY ? 1 : 3;
  await trainRun(rec, `${dataset.format}_cached`, { source: dataset.format, data: dataset.dir, cacheFeatures: true });
  await trainRun(rec, `${dataset.format}_no_cache`, { source: dataset.format, data: dataset.dir, cacheFeatures: false });
});

await section('images_vs_serialized', 60, async (rec) => {
  if (!dataset) throw new Error('no dataset');
  await trainRun(rec, 'images_cached', { source: 'images', images: dataset.images, labels: dataset.labels, valFraction: B.valFraction, splitSeed: 1, cacheFeatures: true });
  await trainRun(rec, 'images_no_cache', { source: 'images', images: dataset.images, labels: dataset.labels, valFraction: B.valFraction, splitSeed: 1, cacheFeatures: false });
});

await section('fine_tune_e2e', 45, async (rec) => {
  if (!dataset) throw new Error('no dataset');
  await trainRun(rec, `${dataset.format}_fine_tune`, { source: dataset.format, data: dataset.dir, fineTune: true, epochs: DRY ? 1 : 2 });
});

results.finished = new Date().toISOString();
save();
log('done');
process.exit(0);
