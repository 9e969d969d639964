/**
 * `retina bench backbone`: the frozen backbone's forward pass on every available backend, in one
 * run: per thread (one single-threaded instance), and on all usable CPUs (one instance per CPU in
 * worker threads for single-threaded engines; for ONNX Runtime also one session with an intra-op
 * thread per CPU). Synthetic images; each measurement runs whole batches for a time budget after a
 * warm-up batch, with every thread started at the same moment.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus as osCpus, loadavg } from 'node:os';
import { RetinaError, messageOf } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { usableCpus } from '../core/cpus.js';
import { backendProvider, selectBackend, type SelectedBackend } from '../backends/backend-registry.js';
import { defaultCacheRoot } from '../train/feature-cache.js';
import { planForward } from '../train/frozen-forward.js';
import { buildBackbone, type BackboneSpec, type ModelName } from '../train/models/model-registry.js';
import type { BenchWorkerData, BenchWorkerMessage } from './backbone-bench-worker.js';

export const DEFAULT_BENCH_BACKENDS = ['onnxruntime', 'wasm', 'cpu', 'tensorflow', 'webgpu'];

export interface BackboneBenchOptions {
  model?: ModelName;
  /** Backends to measure; default every one that starts, of DEFAULT_BENCH_BACKENDS. */
  backends?: string[];
  batch?: number;
  /** Seconds each measurement runs for (whole batches, at least `minBatches`). */
  seconds?: number;
  minBatches?: number;
  threads?: number;
  seed?: number;
  /** small-cnn's input size (inception-v3 is 299). */
  size?: number;
  cacheDir?: string;
  logger?: Logger;
}

export interface BackboneBenchRow {
  backend: string;
  /** `per-thread`: one instance on one thread; `workers`: one per CPU; `intra-op`: one ONNX Runtime session with a thread per CPU. */
  mode: 'per-thread' | 'workers' | 'intra-op';
  threads: number;
  batch: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Wall milliseconds per image times the threads used: the cost of an image on one thread. */
  msPerImagePerThread: number;
}

export interface BackboneBenchResult {
  model: ModelName;
  inputShape: [number, number, number];
  batch: number;
  cpus: number;
  results: BackboneBenchRow[];
  skipped: { backend: string; reason: string }[];
  machine: { cpu: string | undefined; cores: number; loadavg: number[]; node: string; date: string };
}

function workerFile(): string {
  const here = new URL('./backbone-bench-worker.js', import.meta.url);
  const candidates = import.meta.url.endsWith('.js') ? [here] : [new URL('../../dist/src/bench/backbone-bench-worker.js', import.meta.url)];
  for (const c of candidates) if (existsSync(fileURLToPath(c))) return fileURLToPath(c);
  throw new RetinaError('NOT_FOUND', 'The compiled bench worker is missing', { hint: 'Run `npm run build` first.' });
}

/** Run `n` workers with `data`, start them together once all are ready; images/s over the wall time. */
async function measure(n: number, data: BenchWorkerData): Promise<{ images: number; seconds: number }> {
  const workers = Array.from({ length: n }, () => new Worker(workerFile(), { workerData: data }));
  try {
    const settle = (w: Worker, want: 'ready' | 'done') => new Promise<BenchWorkerMessage>((resolve, reject) => {
      const onMsg = (m: BenchWorkerMessage) => {
        if ('error' in m) reject(new RetinaError('EXTERNAL', `bench worker (${data.backend}): ${m.error}`));
        else if ((want === 'ready') === ('ready' in m)) { w.off('message', onMsg); resolve(m); }
      };
      w.on('message', onMsg);
      w.once('error', reject);
      w.once('exit', (code) => reject(new RetinaError('EXTERNAL', `bench worker (${data.backend}) exited with code ${code}`)));
    });
    await Promise.all(workers.map((w) => settle(w, 'ready')));
    const done = workers.map((w) => settle(w, 'done'));
    const t0 = performance.now();
    for (const w of workers) w.postMessage('go');
    const replies = await Promise.all(done);
    const seconds = (performance.now() - t0) / 1000;
    return { images: replies.reduce((a, r) => a + ('images' in r ? r.images : 0), 0), seconds };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function benchBackbone(o: BackboneBenchOptions = {}): Promise<BackboneBenchResult> {
  const log = o.logger ?? silentLogger;
  const model = o.model ?? 'inception-v3';
  const batch = o.batch ?? 8, seconds = o.seconds ?? 10, minBatches = o.minBatches ?? 1, seed = o.seed ?? 1;
  const cpus = usableCpus(o.threads).cpus;
  const inputShape: [number, number, number] = model === 'inception-v3' ? [299, 299, 3] : [o.size ?? 64, o.size ?? 64, 3];
  const spec: BackboneSpec = { model, seed, trainable: false, inputShape };
  const explicit = o.backends !== undefined;
  const names = o.backends ?? DEFAULT_BENCH_BACKENDS;
  for (const n of names) backendProvider(n); // unknown names: BAD_ARGUMENT before anything runs
  const results: BackboneBenchRow[] = [];
  const skipped: { backend: string; reason: string }[] = [];
  const row = (backend: string, mode: BackboneBenchRow['mode'], threads: number, r: { images: number; seconds: number; batch: number }): BackboneBenchRow => {
    const x: BackboneBenchRow = {
      backend, mode, threads, batch: r.batch, images: r.images, seconds: r.seconds,
      imagesPerSecond: r.images / r.seconds, msPerImagePerThread: (r.seconds * 1000 * threads) / r.images,
    };
    log.info(`bench backbone: ${backend} ${mode} x${threads}: ${x.imagesPerSecond.toFixed(2)} images/s, ${x.msPerImagePerThread.toFixed(0)} ms/image/thread`);
    results.push(x);
    return x;
  };
  for (const name of names) {
    let selected: SelectedBackend;
    const cheapSkip = explicit ? undefined : backendProvider(name).autoSkipReason?.();
    if (cheapSkip !== undefined) { skipped.push({ backend: name, reason: cheapSkip }); continue; }
    try {
      selected = await selectBackend(name);
    } catch (err) {
      if (explicit) throw err;
      skipped.push({ backend: name, reason: messageOf(err) });
      log.debug(`bench backbone: skipped ${name}: ${messageOf(err)}`);
      continue;
    }
    let onnxFile: string | undefined;
    if (selected.provider.frozenForward === 'onnxruntime') {
      const bb = await buildBackbone(spec);
      try {
        onnxFile = (await planForward({ model: bb.model, identity: bb.identity, selected, cacheRoot: o.cacheDir ?? defaultCacheRoot(), log })).onnxFile;
      } finally {
        bb.model.dispose();
      }
    }
    const dim = model === 'inception-v3' ? 2048 : 64;
    // The pure-JS cpu backend takes ~12 s per InceptionV3 image: one image per pass keeps it short.
    const b = name === 'cpu' && model === 'inception-v3' ? 1 : batch;
    const data: BenchWorkerData = { backend: name, spec, ...(onnxFile ? { onnxFile } : {}), intraOp: 1, dim, batch: b, minBatches, budgetMs: seconds * 1000 };
    const parallel = selected.provider.parallelWorkers;
    row(name, 'per-thread', 1, { ...await measure(1, data), batch: b });
    if (parallel && cpus > 1) row(name, 'workers', cpus, { ...await measure(cpus, data), batch: b });
    if (onnxFile && cpus > 1) row(name, 'intra-op', cpus, { ...await measure(1, { ...data, intraOp: cpus }), batch: b });
  }
  return {
    model, inputShape, batch, cpus, results, skipped,
    machine: { cpu: osCpus()[0]?.model, cores: osCpus().length, loadavg: loadavg(), node: process.version, date: new Date().toISOString() },
  };
}
