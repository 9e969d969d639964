import * as tf from '@tensorflow/tfjs';
import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureDir } from '../core/ensure-dir.js';
import { RetinaError, badArgument } from '../core/errors.js';
import { defaultRunDir } from '../defaults.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { silentLogger } from '../core/log.js';
import { createRng, hashString, shuffleInPlace } from '../rng.js';
import { usableCpus } from '../core/cpus.js';
import { selectBackend } from '../backends/backend-registry.js';
import { FEATURE_CHUNK } from './features.js';
import { defaultCacheRoot } from './feature-cache.js';
import { openForward, planForward, type ForwardPlan } from './frozen-forward.js';
import { cachedFeatureFeed, inProcessFeed, pooledFeed, type EpochFeed } from './epoch-feed.js';
import { accuracy, argmaxRows, confusionMatrix, crossEntropy, quadraticWeightedKappa } from './metrics.js';
import { assemble, buildBackbone, buildHead, NUM_CLASSES, type Backbone, type BackboneSpec, type ModelName } from './models/model-registry.js';
import { fileModelHandler } from './model-io.js';
import { writeRejects } from '../preprocess/rejects.js';
import { progressBar } from './train-progress.js';
import { predictSplit } from './val-predictions.js';
import { checkSourceName } from './sources.js';
import { lossOf, variablesOf } from './step.js';
import { createFineTuner } from './fine-tuner.js';
import { openTrainingSource, checkRecords } from './source-options.js';
import { cachedFeatures, type FeatureCacheReport } from './cached-features.js';
import { FeaturePool } from './feature-pool.js';
import { FORWARD_PREFETCH, type ForwardClock } from './pooled-forward.js';
import type { SampleSource } from './sources.js';
import type { ProgressBar } from './train-progress.js';
import type { Logger } from '../core/log.js';
import type { SelectedBackend } from '../backends/backend-registry.js';

export type { TrainOptions, EpochReport, TrainResult } from './train-types.js';
import type { TrainOptions, EpochReport, TrainResult } from './train-types.js';

/**
 * Backbones smaller than this keep their forward pass in the main thread without the cache: the
 * pool's start-up (~0.5 s, a backbone per worker) and its messages cost more than a tiny forward
 * pass gains (small-cnn: 0.1-0.5 s epochs, measured slower pooled); InceptionV3 (21.8 M) halves
 * its epochs on 2 cores.
 */
export const POOL_MIN_PARAMS = 1_000_000;

function checkAborted(signal: AbortSignal | undefined, out: string, epoch: number): void {
  if (!signal?.aborted) return;
  throw new RetinaError('ABORTED', `Training stopped (${String(signal.reason ?? 'aborted')}) during epoch ${epoch}`, {
    location: { file: out }, hint: `${out}/metrics.jsonl holds the finished epochs; no model was saved. Run again to train.`,
  });
}

/**
 * What a frozen backbone with random weights means for the run (it learns next to nothing: the
 * README's 200 synthetic images ended at kappa 0.000, the majority grade every time).
 */
export function randomWeightsWarning(model: ModelName): string {
  const where = model === 'inception-v3' ? 'Keras\' ImageNet InceptionV3 .h5: `retina weights` says where it lives' : 'a trained tfjs layers model.json';
  return `frozen backbone with random weights: features carry no image knowledge; pass --weights (${where}) or --fine-tune. Expect kappa near 0.`;
}

/**
 * "N parameters", and for a folded backbone the count before folding too: the README and Keras
 * give InceptionV3 with the head as 21,813,029, the folded model has 21,778,597 (each unit's three
 * BN vectors become one bias), and a user comparing the two should not have to guess why.
 */
export function describeParams(params: number, backbone: { folded: boolean; unfoldedParams?: number }, headParams: number): string {
  const n = (v: number) => v.toLocaleString('en');
  if (!backbone.folded || backbone.unfoldedParams === undefined) return `${n(params)} parameters`;
  return `${n(params)} parameters (batch norm folded into the convolutions; ${n(backbone.unfoldedParams + headParams)} unfolded, as Keras counts them)`;
}

function checkPositiveInt(flag: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw badArgument(flag, 'a positive integer', v);
}

/**
 * Train a grader: the seed's transfer learning (frozen backbone, new 2048→5 softmax head, Adam,
 * categorical cross-entropy) or full fine-tuning, from a serialized dataset or JPEGs decoded every
 * epoch. Writes RUN_DIR/metrics.jsonl (one line per epoch), RUN_DIR/summary.json and
 * RUN_DIR/model/ (tfjs layers format, loadable by `evaluate`/`predict`).
 *
 * @throws RetinaError BAD_ARGUMENT for bad options, BAD_INPUT when the data does not fit the model
 *   (shape, dtype, labels, an empty split), NOT_FOUND / CORRUPT for missing or damaged inputs.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const log = opts.logger ?? silentLogger;
  const model: ModelName = opts.model ?? 'inception-v3';
  const fineTune = opts.fineTune ?? false;
  const epochs = opts.epochs ?? 15, batchSize = opts.batchSize ?? 32, lr = opts.lr ?? 1e-4, seed = opts.seed ?? 1;
  checkPositiveInt('--epochs', epochs);
  checkPositiveInt('--batch-size', batchSize);
  if (!(lr > 0 && lr < 10)) throw badArgument('--lr', 'a learning rate in (0, 10)', lr);
  if (fineTune && opts.cacheFeatures === true) {
    throw new RetinaError('BAD_ARGUMENT', '--cache-features needs a frozen backbone, and --fine-tune trains it', { hint: 'Drop one of the two flags.' });
  }
  const useCache = opts.cacheFeatures ?? !fineTune;
  checkSourceName(opts.source);

  const source = await openTrainingSource(opts, model);
  // Weights live in the backend's memory, not the JS heap, and in-process callers (the bench) train
  // many times: dispose what was built. A layer's weights go when every symbolic call of it is
  // disposed: the backbone's layers are called once, the head's Dense twice (head model and full).
  const disposers: (() => void)[] = [];
  let closePool: (() => Promise<void>) | undefined;
  try {
    const { trainIdx, valIdx } = checkRecords(source);
    const selected = await selectBackend(opts.backend ?? 'auto');
    for (const s of selected.skipped) log.debug(`backend auto: skipped ${s.name}: ${s.reason}`);
    const spec: BackboneSpec = {
      model, seed, trainable: fineTune, inputShape: source.spec.shape as [number, number, number],
      ...(opts.weights !== undefined ? { weights: resolve(opts.weights) } : {}),
    };
    const backbone = await buildBackbone(spec);
    disposers.push(() => backbone.model.dispose());
    if (!fineTune && backbone.weights === 'random' && (opts.warnRandomWeights ?? true)) log.warn(randomWeightsWarning(model));
    if (backbone.inputShape.join('x') !== source.spec.shape.join('x')) {
      throw new RetinaError('BAD_INPUT', `The model takes ${backbone.inputShape.join('x')} images but the data holds ${source.spec.shape.join('x')}`, {
        hint: 'Preprocess at the model\'s size (retina preprocess --size), or pick a model that fits.',
      });
    }
    // Frozen: where its forward passes run (ONNX Runtime builds or finds the backbone's graph now).
    const plan: ForwardPlan | undefined = fineTune ? undefined
      : await planForward({ model: backbone.model, identity: backbone.identity, selected, cacheRoot: opts.cacheDir ?? defaultCacheRoot(), log });
    const head = buildHead(backbone.featureDim, seed);
    const full = assemble(backbone.model, head);
    disposers.splice(0, disposers.length, () => full.dispose(), () => head.layer.dispose());
    const out = resolve(opts.out ?? defaultRunDir(model, opts.source));
    await prepareRunDir(out, opts.force ?? false);
    // --skip-invalid: the rows left out, where preprocess lists them (its rejects.csv format).
    const rejectsFile = source.rejects?.length ? join(out, 'rejects.csv') : null;
    if (rejectsFile) {
      await writeRejects(rejectsFile, source.rejects!);
      log.warn(`skipping ${source.rejects!.length} invalid rows (--skip-invalid): listed in ${rejectsFile}`);
    }
    const microBatch = opts.microBatch ?? (fineTune && model === 'inception-v3' && selected.name === 'wasm' ? 4 : batchSize);
    checkPositiveInt('--micro-batch', microBatch);
    log.info(`train: ${model}${fineTune ? ' (fine-tune)' : ' (frozen backbone)'} on ${selected.name}, ${trainIdx.length} train / ${valIdx.length} val images, ${epochs} epochs, batch ${batchSize}, ${describeParams(full.countParams(), backbone, head.model.countParams())}`);
    // The per-batch bar redraws one line: a terminal only (logs get one line per epoch).
    const bar = progressBar((opts.progress ?? false) && Boolean(process.stderr.isTTY));
    const cpuWarning = usableCpus(opts.threads).warning;
    if (cpuWarning) log.warn(cpuWarning);

    const built = await openFeed({ opts, source, backbone, spec, selected, plan, useCache, fineTune, batchSize, bar, log });
    closePool = built.close;
    const { feed, cacheReport } = built;
    checkAborted(opts.signal, out, 0);
    const featureSeconds = built.featureSeconds;
    const setupSeconds = (performance.now() - t0) / 1000 - featureSeconds;

    // Fine-tuning: flat Adam and analytic batch norm (tfjs' numbers in a quarter of the kernels,
    // see fine-tuner.ts); the frozen head keeps tfjs' Adam (two variables, nothing to gain).
    const tuner = fineTune ? createFineTuner(full, { lr, microBatch }) : undefined;
    const optimizer = tuner?.optimizer ?? tf.train.adam(lr);
    disposers.push(() => (tuner ? tuner.dispose() : optimizer.dispose()));
    const vars = variablesOf(head.model);
    const rng = createRng(hashString(`shuffle:${seed}`));
    const reports: EpochReport[] = [];
    await writeFile(join(out, 'metrics.jsonl'), '');

    // One training step: the fine-tuner on images, else the head on features (the backbone's
    // forward first when the feed yields images).
    const step = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
      if (tuner) return tuner.step(x, y);
      const f = feed.kind === 'features' ? x : tf.tidy(() => backbone.model.predict(x, { batchSize: FEATURE_CHUNK }) as tf.Tensor);
      const loss = optimizer.minimize(() => lossOf(head.model.apply(f, { training: true }) as tf.Tensor, y), true, vars)!;
      if (f !== x) f.dispose();
      return loss;
    };

    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      let compute = 0, lossSum = 0, seen = 0;
      const order = shuffleInPlace([...trainIdx], rng.fork(epoch));
      const label = `epoch ${epoch}/${epochs}`;
      const consume = async (x: tf.Tensor, labels: Int32Array) => {
        // Reads and tfjs' data() settle as microtasks, so without this turn of the event loop a
        // SIGINT handler never runs before the epoch ends (seen: the in-process path trained on
        // for 50 s after SIGINT and saved the model).
        await new Promise((r) => setImmediate(r));
        if (opts.signal?.aborted) { tf.dispose(x); bar.clear(); checkAborted(opts.signal, out, epoch); }
        const tc = performance.now();
        const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES));
        const loss = step(x, y);
        lossSum += (await loss.data())[0]! * labels.length;
        seen += labels.length;
        tf.dispose([x, y, loss]);
        compute += performance.now() - tc;
        bar.update(seen, order.length, label);
      };
      const fed = await feed.epoch(order, valIdx, consume).catch((err: unknown) => {
        // An aborted wait rejects from the pool: report it with the epoch, as every abort.
        if (opts.signal?.aborted) { bar.clear(); checkAborted(opts.signal, out, epoch); }
        throw err;
      });
      bar.clear();
      const val = await predictSplit({ source, valIdx, features: undefined, valFeatures: fed.valFeatures, dim: backbone.featureDim, head: head.model, full, shape: source.spec.shape as [number, number, number], batchSize });
      const report = epochReport({
        epoch, lossSum, seen, probs: val.probs, labels: valIdx.map((r) => source.meta(r).label), seconds: (performance.now() - te) / 1000,
        waitMs: fed.waitMs + val.waitMs, computeMs: compute + fed.computeMs + val.computeMs, images: order.length, workers: feed.workers, clock: fed.clock,
      });
      reports.push(report);
      await appendFile(join(out, 'metrics.jsonl'), JSON.stringify(report) + '\n');
      log.info(`${label}: loss ${report.trainLoss.toFixed(4)}, val loss ${report.valLoss.toFixed(4)}, accuracy ${report.valAccuracy.toFixed(3)}, kappa ${report.valKappa.toFixed(3)} | ${report.seconds.toFixed(1)} s (data wait ${report.dataWaitSeconds.toFixed(1)} s, compute ${report.computeSeconds.toFixed(1)} s), ${report.imagesPerSecond.toFixed(1)} images/s`);
    }

    full.setUserDefinedMetadata({
      retina: {
        kind: 'retina-model', version: 1, model, backbone: backbone.identity, folded: backbone.folded, fineTune,
        inputShape: backbone.inputShape, classes: NUM_CLASSES, inputRange: [-1, 1],
        transform: { size: source.transform.size, crop: source.transform.crop, normalize: source.transform.normalize },
      },
    });
    await full.save(fileModelHandler(join(out, 'model')));
    const epochSeconds = reports.reduce((a, r) => a + r.seconds, 0);
    const last = reports[reports.length - 1]!;
    const result: TrainResult = {
      epochs: reports,
      final: { valAccuracy: last.valAccuracy, valKappa: last.valKappa, valLoss: last.valLoss, confusion: last.confusion },
      imagesPerSecond: (trainIdx.length * epochs) / (featureSeconds + epochSeconds),
      out, model, source: opts.source, backend: selected.name, fineTune, backboneWeights: backbone.weights,
      rejected: source.rejects?.length ?? 0, rejectsFile,
      params: full.countParams(), trainImages: trainIdx.length, valImages: valIdx.length,
      featureCache: cacheReport,
      timing: { setupSeconds, featureSeconds, epochSeconds, totalSeconds: (performance.now() - t0) / 1000 },
    };
    const options = { ...opts, logger: undefined, model, epochs, batchSize, lr, seed, fineTune, cacheFeatures: useCache, microBatch };
    await writeFileAtomic(join(out, 'summary.json'), JSON.stringify({ ...result, options }, null, 2));
    log.info(`train: done in ${result.timing.totalSeconds.toFixed(1)} s (features ${featureSeconds.toFixed(1)} s, epochs ${epochSeconds.toFixed(1)} s); model in ${join(out, 'model')}`);
    return result;
  } finally {
    await closePool?.();
    for (const dispose of disposers) dispose();
    await source.close();
  }
}

async function prepareRunDir(out: string, force: boolean): Promise<void> {
  const done = await stat(join(out, 'summary.json')).then(() => true, () => false);
  if (done && !force) {
    throw new RetinaError('EXISTS', `${out} already holds a finished run (summary.json)`, {
      location: { file: out }, hint: 'Pass another --out, or --force to overwrite it.',
    });
  }
  await ensureDir(out, 'the run folder');
}

/** One epoch's line of metrics.jsonl from its training loss, validation probabilities and clocks. */
function epochReport(o: {
  epoch: number; lossSum: number; seen: number; probs: Float32Array; labels: number[]; seconds: number;
  waitMs: number; computeMs: number; images: number; workers: number; clock: ForwardClock | undefined;
}): EpochReport {
  const predicted = argmaxRows(o.probs, NUM_CLASSES);
  return {
    epoch: o.epoch,
    trainLoss: o.lossSum / Math.max(1, o.seen),
    valLoss: crossEntropy(o.probs, o.labels, NUM_CLASSES),
    valAccuracy: accuracy(o.labels, predicted),
    valKappa: quadraticWeightedKappa(o.labels, predicted, NUM_CLASSES),
    confusion: confusionMatrix(o.labels, predicted, NUM_CLASSES),
    seconds: o.seconds,
    dataWaitSeconds: o.waitMs / 1000,
    computeSeconds: o.computeMs / 1000,
    imagesPerSecond: o.images / o.seconds,
    forwardWorkers: o.workers,
    featureWaitSeconds: (o.clock?.waitMs ?? 0) / 1000,
    workerReadSeconds: (o.clock?.workerReadMs ?? 0) / 1000,
    workerForwardSeconds: (o.clock?.workerForwardMs ?? 0) / 1000,
  };
}

/**
 * The epoch feed for this run (see epoch-feed.ts): cached features (computed or loaded here, timed
 * as `featureSeconds`), the worker pool (a frozen backbone big enough to gain from it, on a backend
 * with parallel workers and CPUs to spare), or in-process (with ONNX Runtime's session when the
 * frozen forward runs there). `close` stops the pool.
 */
async function openFeed(o: {
  opts: TrainOptions; source: SampleSource; backbone: Backbone; spec: BackboneSpec; selected: SelectedBackend; plan: ForwardPlan | undefined;
  useCache: boolean; fineTune: boolean; batchSize: number; bar: ProgressBar; log: Logger;
}): Promise<{ feed: EpochFeed; cacheReport: FeatureCacheReport | null; featureSeconds: number; close?: () => Promise<void> }> {
  const { opts, source, backbone, log } = o;
  const dim = backbone.featureDim;
  if (o.useCache) {
    const t = performance.now();
    const threads = Math.max(1, Math.min(usableCpus(opts.threads).cpus, Math.ceil(source.count / 8)));
    const r = await cachedFeatures({ source, backbone, spec: o.spec, backend: o.selected, threads, cacheDir: opts.cacheDir, log, signal: opts.signal, plan: o.plan, progress: { enabled: opts.progress ?? false, intervalS: opts.progressIntervalS } });
    return { feed: cachedFeatureFeed(source, r.features, dim, o.batchSize), cacheReport: r.report, featureSeconds: (performance.now() - t) / 1000 };
  }
  // Frozen backbone without the cache: its forward pass runs every epoch, on a pool of workers
  // that lives for the whole run when the backend gains from several instances and CPUs allow.
  // Starting it (a backbone per worker) counts as set-up, like building the backbone here.
  if (!o.fineTune && o.selected.provider.parallelWorkers && (opts.poolForward ?? backbone.model.countParams() >= POOL_MIN_PARAMS)) {
    const cpus = usableCpus(opts.threads);
    const threads = Math.max(1, Math.min(cpus.cpus, Math.ceil(source.count / FEATURE_CHUNK)));
    if (threads > 1) {
      const pool = new FeaturePool({ source: source.descriptor, backbone: { ...o.spec, trainable: false }, backend: o.selected.name, onnxFile: o.plan?.onnxFile, dim, threads });
      log.info(`forward: the frozen backbone runs on ${o.plan?.engine ?? o.selected.name} in ${threads} worker threads (${cpus.cpus} CPUs from ${cpus.source}), ${FORWARD_PREFETCH} batches computed ahead`);
      await pool.warmUp(opts.signal).catch(async (err: unknown) => {
        if (opts.signal?.aborted) return;
        await pool.close();
        throw err;
      });
      return { feed: pooledFeed({ source, pool, dim, batchSize: o.batchSize, log, signal: opts.signal }), cacheReport: null, featureSeconds: 0, close: () => pool.close() };
    }
  }
  // In-process without the cache (one CPU, or a small backbone): ONNX Runtime's session here.
  if (!o.fineTune && o.plan?.onnxFile !== undefined) {
    const forward = await openForward(o.plan, backbone.model, usableCpus(opts.threads).cpus);
    return { feed: inProcessFeed(source, o.batchSize, dim, forward), cacheReport: null, featureSeconds: 0, close: async () => { await forward.dispose(); } };
  }
  return { feed: inProcessFeed(source, o.batchSize, dim), cacheReport: null, featureSeconds: 0 };
}
