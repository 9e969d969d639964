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
import { computeFeatures, FEATURE_CHUNK } from './features.js';
import { defaultCacheRoot } from './feature-cache.js';
import { openForward, planForward, type FrozenForward, type ForwardPlan } from './frozen-forward.js';
import { batches } from './loader.js';
import { accuracy, argmaxRows, confusionMatrix, crossEntropy, quadraticWeightedKappa } from './metrics.js';
import { assemble, buildBackbone, buildHead, NUM_CLASSES, type BackboneSpec, type ModelName } from './models/model-registry.js';
import { fileModelHandler } from './model-io.js';
import { progressBar } from './train-progress.js';
import { predictSplit } from './val-predictions.js';
import { checkSourceName } from './sources.js';
import { lossOf, variablesOf } from './step.js';
import { createFineTuner } from './fine-tuner.js';
import { openTrainingSource, checkRecords } from './source-options.js';
import { cachedFeatures, type FeatureCacheReport } from './cached-features.js';
import { FeaturePool } from './feature-pool.js';
import { FORWARD_PREFETCH, pooledEpoch, slices, type ForwardClock } from './pooled-forward.js';

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
    const microBatch = opts.microBatch ?? (fineTune && model === 'inception-v3' && selected.name === 'wasm' ? 4 : batchSize);
    checkPositiveInt('--micro-batch', microBatch);
    log.info(`train: ${model}${fineTune ? ' (fine-tune)' : ' (frozen backbone)'} on ${selected.name}, ${trainIdx.length} train / ${valIdx.length} val images, ${epochs} epochs, batch ${batchSize}, ${describeParams(full.countParams(), backbone, head.model.countParams())}`);
    // The per-batch bar redraws one line: a terminal only (logs get one line per epoch).
    const bar = progressBar((opts.progress ?? false) && Boolean(process.stderr.isTTY));
    const cpuWarning = usableCpus(opts.threads).warning;
    if (cpuWarning) log.warn(cpuWarning);

    // Frozen backbone: pooled features once (cache), then the head trains on them every epoch.
    let features: Float32Array | undefined;
    let cacheReport: FeatureCacheReport | null = null;
    const tFeat = performance.now();
    if (useCache) {
      const threads = Math.max(1, Math.min(usableCpus(opts.threads).cpus, Math.ceil(source.count / 8)));
      const r = await cachedFeatures({ source, backbone, spec, backend: selected, threads, cacheDir: opts.cacheDir, log, signal: opts.signal, plan, progress: { enabled: opts.progress ?? false, intervalS: opts.progressIntervalS } });
      features = r.features;
      cacheReport = r.report;
    }
    checkAborted(opts.signal, out, 0);
    const featureSeconds = (performance.now() - tFeat) / 1000;
    // Frozen backbone without the cache: its forward pass runs every epoch, on a pool of workers
    // that lives for the whole run when the backend gains from several instances and CPUs allow.
    // Starting it (a backbone per worker) counts as set-up, like building the backbone here.
    let pool: FeaturePool | undefined;
    if (!useCache && !fineTune && selected.provider.parallelWorkers && (opts.poolForward ?? backbone.model.countParams() >= POOL_MIN_PARAMS)) {
      const cpus = usableCpus(opts.threads);
      const threads = Math.max(1, Math.min(cpus.cpus, Math.ceil(source.count / FEATURE_CHUNK)));
      if (threads > 1) {
        pool = new FeaturePool({ source: source.descriptor, backbone: { ...spec, trainable: false }, backend: selected.name, onnxFile: plan?.onnxFile, dim: backbone.featureDim, threads });
        closePool = () => pool!.close();
        log.info(`forward: the frozen backbone runs on ${plan?.engine ?? selected.name} in ${threads} worker threads (${cpus.cpus} CPUs from ${cpus.source}), ${FORWARD_PREFETCH} batches computed ahead`);
        await pool.warmUp(opts.signal).catch((err: unknown) => { if (!opts.signal?.aborted) throw err; });
      }
    }
    // In-process without the cache (one CPU, or a small backbone): ONNX Runtime's session here.
    let forward: FrozenForward | undefined;
    if (!useCache && !fineTune && !pool && plan?.onnxFile !== undefined) {
      const f = forward = await openForward(plan, backbone.model, usableCpus(opts.threads).cpus);
      disposers.push(() => { void f.dispose(); });
    }
    checkAborted(opts.signal, out, 0);
    const setupSeconds = (performance.now() - t0) / 1000 - featureSeconds;

    // Fine-tuning: flat Adam and analytic batch norm (tfjs' numbers in a quarter of the kernels,
    // see fine-tuner.ts); the frozen head keeps tfjs' Adam (two variables, nothing to gain).
    const tuner = fineTune ? createFineTuner(full, { lr, microBatch }) : undefined;
    const optimizer = tuner?.optimizer ?? tf.train.adam(lr);
    disposers.push(() => (tuner ? tuner.dispose() : optimizer.dispose()));
    const vars = variablesOf(head.model);
    const rng = createRng(hashString(`shuffle:${seed}`));
    const [h, w, c] = source.spec.shape as [number, number, number];
    const dim = backbone.featureDim;
    const reports: EpochReport[] = [];
    await writeFile(join(out, 'metrics.jsonl'), '');

    const step = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
      if (tuner) return tuner.step(x, y);
      const f = features || pool || forward ? x : tf.tidy(() => backbone.model.predict(x, { batchSize: FEATURE_CHUNK }) as tf.Tensor);
      const loss = optimizer.minimize(() => lossOf(head.model.apply(f, { training: true }) as tf.Tensor, y), true, vars)!;
      if (f !== x) f.dispose();
      return loss;
    };

    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      let wait = 0, compute = 0, lossSum = 0, seen = 0;
      let clock: ForwardClock | undefined;
      let valFeatures: Float32Array | undefined;
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
      if (features) {
        for (let s = 0; s < order.length; s += batchSize) {
          const tw = performance.now();
          const idx = order.slice(s, s + batchSize);
          const fx = new Float32Array(idx.length * dim);
          idx.forEach((r, i) => fx.set(features!.subarray(r * dim, (r + 1) * dim), i * dim));
          const labels = Int32Array.from(idx, (r) => source.meta(r).label);
          wait += performance.now() - tw;
          await consume(tf.tensor2d(fx, [idx.length, dim]), labels);
        }
      } else if (pool) {
        try {
          const r = await pooledEpoch({
            pool, train: slices(order, batchSize), val: slices(valIdx, batchSize), dim, prefetch: FORWARD_PREFETCH, signal: opts.signal, log,
            onTrainBatch: (fx, idx) => consume(tf.tensor2d(fx, [idx.length, dim]), Int32Array.from(idx, (r) => source.meta(r).label)),
          });
          clock = r.clock;
          valFeatures = r.valFeatures;
        } catch (err) {
          // An aborted wait rejects from the pool: report it with the epoch, as every abort.
          if (opts.signal?.aborted) { bar.clear(); checkAborted(opts.signal, out, epoch); }
          throw err;
        }
        wait += clock.dataMs;
        compute += clock.forwardWaitMs;
      } else {
        const it = batches(source, order, batchSize);
        for (;;) {
          const tw = performance.now();
          const next = await it.next();
          wait += performance.now() - tw;
          if (next.done) break;
          if (forward) {
            const tf0 = performance.now();
            const fx = await forward.run(next.value.x, [next.value.size, h, w, c]);
            compute += performance.now() - tf0;
            await consume(tf.tensor2d(fx, [next.value.size, dim]), next.value.labels);
          } else await consume(tf.tensor4d(next.value.x, [next.value.size, h, w, c]), next.value.labels);
        }
      }
      bar.clear();
      if (forward) {
        const timing = { readMs: 0, forwardMs: 0 };
        valFeatures = await computeFeatures(forward, source, valIdx, FEATURE_CHUNK, timing);
        wait += timing.readMs;
        compute += timing.forwardMs;
      }
      const val = await predictSplit({ source, valIdx, features, valFeatures, dim, head: head.model, full, shape: [h, w, c], batchSize });
      wait += val.waitMs;
      compute += val.computeMs;
      const labels = valIdx.map((r) => source.meta(r).label);
      const predicted = argmaxRows(val.probs, NUM_CLASSES);
      const seconds = (performance.now() - te) / 1000;
      const report: EpochReport = {
        epoch,
        trainLoss: lossSum / Math.max(1, seen),
        valLoss: crossEntropy(val.probs, labels, NUM_CLASSES),
        valAccuracy: accuracy(labels, predicted),
        valKappa: quadraticWeightedKappa(labels, predicted, NUM_CLASSES),
        confusion: confusionMatrix(labels, predicted, NUM_CLASSES),
        seconds,
        dataWaitSeconds: wait / 1000,
        computeSeconds: compute / 1000,
        imagesPerSecond: order.length / seconds,
        forwardWorkers: pool?.threads ?? 0,
        featureWaitSeconds: (clock?.waitMs ?? 0) / 1000,
        workerReadSeconds: (clock?.workerReadMs ?? 0) / 1000,
        workerForwardSeconds: (clock?.workerForwardMs ?? 0) / 1000,
      };
      reports.push(report);
      await appendFile(join(out, 'metrics.jsonl'), JSON.stringify(report) + '\n');
      log.info(`${label}: loss ${report.trainLoss.toFixed(4)}, val loss ${report.valLoss.toFixed(4)}, accuracy ${report.valAccuracy.toFixed(3)}, kappa ${report.valKappa.toFixed(3)} | ${seconds.toFixed(1)} s (data wait ${report.dataWaitSeconds.toFixed(1)} s, compute ${report.computeSeconds.toFixed(1)} s), ${report.imagesPerSecond.toFixed(1)} images/s`);
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
