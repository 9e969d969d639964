import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createShardWriter, indexDataset, removeStaleShardFolders, shardStatus } from '../../formats/dataset.js';
import { formatNames, loadFormat } from '../../formats/format-registry.js';
import { shardDirName, type RecordMeta, type ShardManifest, type ShardWriter, type Split, type TensorSpec } from '../../formats/types.js';
import { canonicalJson } from '../../formats/manifest.js';
import { checkWritableDir, ensureDir } from '../core/ensure-dir.js';
import { acquireLock } from '../core/file-lock.js';
import { isDiskFull, diskFullError } from '../core/disk-full.js';
import { usableCpus } from '../core/cpus.js';
import { RetinaError, badArgument } from '../core/errors.js';
import type { RowProblem } from '../labels.js';
import { silentLogger, type Logger } from '../core/log.js';
import { shardOf, type ShardSpec } from '../shard-assign.js';
import { emptySplitWarning } from '../split.js';
import { FLOAT_RANGE } from '../finish.js';
import type { TransformOptions } from '../transform.js';
import { createFinisher } from './finish-pool.js';
import { defaultDecodeBudgetMP, transformInOrder } from './pipeline.js';
import { createProgress } from './preprocess-progress.js';
import { rejectsPath, writeRejects } from './rejects.js';
import { applySharpPlan, planThreads } from './threads.js';
import { invalidInputError, readLabelledImages, splitAndOrder, type SplitItem } from '../labelled-images.js';

/** Bumped whenever the transform's output changes, so old shards are not mistaken for new ones (2: #15 fidelity: fractional box, true Gaussian). */
export const TRANSFORM_VERSION = 2;

export interface PreprocessOptions {
  images: string;
  labels: string;
  out: string;
  format: string;
  transform: TransformOptions;
  valFraction: number;
  seed: number;
  shard: ShardSpec;
  /** CPUs to use; default from Slurm / cgroup / affinity (`usableCpus`). */
  threads?: number;
  /** Only the first N data rows of the labels file. */
  limit?: number;
  skipInvalid: boolean;
  force: boolean;
  idColumn?: string;
  labelColumn?: string;
  logger?: Logger;
  /** Draw progress on stderr (bar on a TTY, periodic lines otherwise). */
  progress?: boolean;
  /** Seconds between progress lines when stderr is not a TTY. */
  progressIntervalS?: number;
  /** Megapixels being decoded at once, over all decode slots (default: decodeBudgetDefault). */
  decodeBudgetMP?: number;
  /** Write an empty dataset when no row is usable (default: BAD_INPUT). */
  allowEmpty?: boolean;
  /** Abort (SIGINT/SIGTERM): stop, remove the partial shard, throw ABORTED. */
  signal?: AbortSignal;
}

/** What `validatePreprocess` needs: the options that decide whether a run can succeed at all. */
export type PreprocessCheck = Pick<PreprocessOptions, 'images' | 'labels' | 'out' | 'format' | 'valFraction' | 'seed' | 'limit' | 'skipInvalid' | 'idColumn' | 'labelColumn' | 'allowEmpty'> & { shard: Pick<ShardSpec, 'count'> };

/**
 * Everything `preprocess` checks before any work, in one place so `retina slurm preprocess` runs
 * the very same checks before `sbatch` (instead of queueing N tasks that would each fail on them):
 * format and fraction, every labels row against the images folder (invalid rows stop the run
 * unless skipInvalid), the shard count of an existing dataset, and an empty split (a warning).
 *
 * @throws RetinaError BAD_ARGUMENT, NOT_FOUND, BAD_INPUT (invalid rows).
 */
export async function validatePreprocess(opts: PreprocessCheck, log: Logger = silentLogger): Promise<{ items: SplitItem[]; problems: RowProblem[]; splits: Map<string, Split> }> {
  if (!formatNames().includes(opts.format)) throw badArgument('--format', `one of ${formatNames().join(', ')}`, opts.format);
  if (!(opts.valFraction >= 0 && opts.valFraction < 1)) throw badArgument('--val-fraction', 'a number in [0, 1)', opts.valFraction);
  await loadFormat(opts.format);
  const { items, problems, labels, images } = await readLabelledImages(opts);
  log.info(`labels: ${labels.total} rows in ${opts.labels} (columns ${labels.columns.id}, ${labels.columns.label}); ${images.size} images in ${opts.images}; ${items.length} usable`);
  if (problems.length && !opts.skipInvalid) throw invalidInputError(opts.labels, problems, items.length, opts.images);
  if (problems.length) log.warn(`skipping ${problems.length} invalid rows (--skip-invalid)`);
  if (items.length === 0 && !opts.allowEmpty) {
    throw new RetinaError('BAD_INPUT', `${opts.labels} has no usable row (${labels.total} data rows${problems.length ? `, ${problems.length} unusable` : ''}): the dataset would be empty`, {
      location: { file: opts.labels }, hint: 'Check the labels file (a header-only CSV has no rows); pass --allow-empty to write an empty dataset on purpose.',
    });
  }
  await refuseOtherShardCount(resolve(opts.out), opts.shard.count);
  const { items: ordered, splits } = splitAndOrder(items, opts.valFraction, opts.seed);
  // Refused here, not at train time after hours of preprocessing: every shard task sees the same split.
  const trainCount = items.reduce((n, it) => n + ((splits.get(it.id) ?? 'train') === 'train' ? 1 : 0), 0);
  if (items.length > 0 && trainCount === 0) {
    throw badArgument('--val-fraction', 'a fraction that leaves at least one patient for training', opts.valFraction,
      `All ${items.length} images went to the validation split; lower --val-fraction (e.g. 0.1).`);
  }
  const emptySplit = emptySplitWarning(items, splits, opts.valFraction);
  if (emptySplit) log.warn(emptySplit);
  return { items: ordered, problems: [...problems], splits };
}

/** `retina preprocess --json`. */
export interface PreprocessResult {
  dataset: string;
  format: string;
  /** Records in this task's shard. */
  records: number;
  /** Shards the dataset is split into (COUNT of --shard). */
  shards: number;
  /** Images transformed per second by this run (0 when the shard was already complete). */
  imagesPerSecond: number;
  /** Rows listed in this task's rejects file. */
  rejected: number;
  /** This task's shard, `INDEX/COUNT`. */
  shard: string;
  /** True when a complete shard with the same parameters was found and kept. */
  skipped: boolean;
  rejectsFile: string | null;
  /** Path of manifest.json when this run completed the dataset (single shard), else null. */
  manifest: string | null;
  splits: { train: number; val: number };
  threads: number;
  seconds: number;
}

/**
 * Preprocess one shard of a labelled image folder into a dataset: read and validate every row
 * first (stop with counts and CSV lines per problem, or record them as rejects), split by
 * patient, take this task's slice of the sorted ids, transform in parallel in a fixed order, and
 * write the shard crash-safely. A complete shard with the same parameters is kept (verified by
 * its checksums) unless `force`.
 *
 * @throws RetinaError BAD_ARGUMENT, NOT_FOUND, BAD_INPUT (invalid rows), CORRUPT (an image that
 *   does not decode, without skipInvalid), EXISTS (a complete shard with other parameters),
 *   ABORTED (signal).
 */
export async function preprocess(opts: PreprocessOptions): Promise<PreprocessResult> {
  const t0 = performance.now();
  const log = opts.logger ?? silentLogger;
  const out = resolve(opts.out);
  const { index, count } = opts.shard;
  await checkWritableDir(out, 'the dataset folder');
  const { cpus, source, warning: cpuWarning } = usableCpus(opts.threads);
  if (cpuWarning) log.warn(cpuWarning);
  if (opts.decodeBudgetMP !== undefined && !(Number.isFinite(opts.decodeBudgetMP) && opts.decodeBudgetMP > 0)) throw badArgument('--decode-budget', 'a positive number of megapixels', opts.decodeBudgetMP);
  const { items, problems, splits } = await validatePreprocess(opts, log);
  const mine = shardOf(items, index, count); // items come in storage order (splitAndOrder)
  const spec: TensorSpec = { dtype: opts.transform.dtype, shape: [opts.transform.size, opts.transform.size, 3] };
  // Identical in every task of a run: `retina index` requires that of the shards it combines.
  const params: Record<string, unknown> = {
    tool: 'retina preprocess', transformVersion: TRANSFORM_VERSION, ...opts.transform,
    valFraction: opts.valFraction, seed: opts.seed, labels: basename(opts.labels), inputs: items.length,
    ...(opts.transform.dtype === 'uint8' ? {} : { floatRange: FLOAT_RANGE }),
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
  };
  const shardText = `${index}/${count}`;
  const rejectsFile = opts.skipInvalid ? rejectsPath(out, index, count) : null;
  // Validation rejects are the same in every task: shard 0 lists them.
  const rejects: RowProblem[] = index === 0 ? [...problems] : [];

  // One writer per shard: a second run on the same shard is told who holds it instead of
  // removing the first's temporary folder (see src/core/file-lock.ts).
  await ensureDir(join(out, 'shards'), 'the dataset folder');
  const lock = await acquireLock(join(out, 'shards', `${shardDirName(index, count)}.lock`), `shard ${shardText} of ${out}`, (m) => log.warn(m));
  try {
    const status = await shardStatus(out, index, count, { verify: true });
    if (status.state === 'complete') {
      const m = status.manifest;
      const changes = differences({ format: m.format, ...m.spec, ...m.params }, { format: opts.format, ...spec, ...params });
      const differs = changes.length ? changes.join(', ') : undefined;
      if (differs === undefined && !opts.force) {
        log.info(`shard ${shardText} is complete in ${status.dir} (checksums verified); keeping it (--force redoes it)`);
        // A run killed between closing its only shard and indexing still gets its manifest.json.
        const indexed = count === 1 ? await indexDataset(out) : undefined;
        return result(m, 0, true, indexed?.manifest ?? null);
      }
      if (differs !== undefined && !opts.force) {
        throw new RetinaError('EXISTS', `Shard ${shardText} in ${out} is complete but was written with other settings: ${differs}`, {
          location: { file: status.dir, shard: index }, hint: 'Pass --force to replace it, or choose another --out.',
        });
      }
      log.info(`shard ${shardText}: --force, redoing it`);
    }
    if (status.state === 'invalid') log.info(`shard ${shardText}: redoing (${status.reason})`);
    // Temporary folders of this shard left by a killed run (a task never touches other shards').
    for (const name of await removeStaleShardFolders(out, index, count)) log.info(`removed ${name}, left by an interrupted run`);

    const plan = planThreads(cpus, opts.transform.normalize !== 'none' || opts.transform.dtype !== 'uint8');
    const budgetMP = opts.decodeBudgetMP ?? defaultDecodeBudgetMP(plan.decodeSlots);
    log.info(`shard ${shardText}: ${mine.length} images on ${cpus} CPUs (${source}): ${plan.decodeSlots} decodes at once x ${plan.vipsThreads} libvips threads, ${plan.jsThreads} JS workers, at most ${budgetMP} megapixels decoding at once`);
    if (plan.note) log.warn(plan.note);
    const restoreSharp = applySharpPlan(plan);
    const finisher = createFinisher(plan.jsThreads);
    let writer: ShardWriter | undefined;
    let closed = false;
    const progress = createProgress({ total: mine.length, label: `preprocess ${shardText}`, silent: !opts.progress, ...(opts.progressIntervalS ? { intervalS: opts.progressIntervalS } : {}) });
    try {
      writer = await createShardWriter(out, opts.format, { index, count, spec, params });
      const w = writer;
      const tWork = performance.now();
      await transformInOrder(mine, { transform: opts.transform, decodeSlots: plan.decodeSlots, pixelBudget: budgetMP * 1e6, window: plan.decodeSlots * 2 + plan.jsThreads + 2, finisher, ...(opts.signal ? { signal: opts.signal } : {}) }, async (o) => {
        progress.tick();
        if ('error' in o) {
          const p: RowProblem = { kind: 'decode', id: o.item.id, line: o.item.line, reason: `cannot decode ${o.item.file}: ${o.error}` };
          if (!opts.skipInvalid) {
            // An image retina refuses on purpose (UNSUPPORTED samples) keeps its code; the rest cannot be decoded.
            const unsupported = o.code === 'UNSUPPORTED';
            throw new RetinaError(unsupported ? 'UNSUPPORTED' : 'CORRUPT', `Image ${o.item.file} (line ${o.item.line} of ${opts.labels}) ${unsupported ? 'is not supported' : 'cannot be decoded'}: ${o.error}`, {
              location: { file: o.item.file, line: o.item.line, id: o.item.id }, hint: unsupported ? 'Convert the image to 8-bit or 16-bit unsigned RGB, or pass --skip-invalid to reject it and go on.' : 'Replace the file, or pass --skip-invalid to reject it and go on.',
            });
          }
          log.warn(`reject ${o.item.id}: ${p.reason}`);
          rejects.push(p);
          return;
        }
        const meta: RecordMeta = { id: o.item.id, label: o.item.label, split: splits.get(o.item.id) ?? 'train' };
        await w.append(meta, o.tensor);
      });
      if (opts.signal?.aborted) throw abortedError(shardText);
      const manifest = await w.close();
      closed = true;
      progress.done();
      const secs = (performance.now() - tWork) / 1000;
      if (rejectsFile) await writeRejects(rejectsFile, rejects);
      const indexed = count === 1 ? await indexDataset(out) : undefined;
      return result(manifest, secs > 0 ? manifest.records / secs : 0, false, indexed?.manifest ?? null);
    } catch (err) {
      if (opts.signal?.aborted && !(err instanceof RetinaError && err.code === 'ABORTED')) throw abortedError(shardText, err);
      // Checked before the partial shard is removed (finally), while the disk is still full.
      if (!(err instanceof RetinaError) && await isDiskFull(err, out)) throw diskFullError(out, `shard ${shardText}`, err, { shard: index });
      throw err;
    } finally {
      if (writer && !closed) await writer.abort();
      await finisher.close();
      restoreSharp();
    }
  } finally {
    await lock.release();
  }

  function result(manifest: ShardManifest, imagesPerSecond: number, skipped: boolean, manifestPath: string | null): PreprocessResult {
    return {
      dataset: out, format: opts.format, records: manifest.records, shards: count,
      imagesPerSecond: Math.round(imagesPerSecond * 10) / 10, rejected: skipped ? 0 : rejects.length, shard: shardText, skipped,
      rejectsFile: skipped ? null : rejectsFile, manifest: manifestPath, splits: { train: manifest.splits.train, val: manifest.splits.val },
      threads: cpus, seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
  }
}

/**
 * Shards of one dataset all have the same COUNT. A different one here means a mistaken --shard or
 * a Slurm resubmission whose array variables were read as a whole array (`--array=5` looks like
 * a one-task array: shard 0/1): writing would leave a dataset no reader can combine.
 */
async function refuseOtherShardCount(out: string, count: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(join(out, 'shards'));
  } catch {
    return;
  }
  const other = names.map((n) => /^shard-\d+-of-(\d+)$/.exec(n)?.[1]).find((c) => c !== undefined && Number(c) !== count);
  if (other !== undefined) {
    throw new RetinaError('BAD_ARGUMENT', `${out} holds shards of ${Number(other)}, not of ${count}: a dataset's shard count is fixed when it is first written`, {
      location: { file: join(out, 'shards') },
      hint: `Pass --shard INDEX/${Number(other)} (retina slurm preprocess: --tasks ${Number(other)}; in a Slurm resubmission: --shard $SLURM_ARRAY_TASK_ID/${Number(other)}), or use another --out.`,
    });
  }
}

function abortedError(shard: string, cause?: unknown): RetinaError {
  return new RetinaError('ABORTED', `Interrupted: shard ${shard} was not written (its partial files were removed)`, {
    location: { shard: Number(shard.split('/')[0]) }, hint: 'Rerun the same command to redo it.', ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The settings that differ between a written shard and this run, by name, as `name: was X, now Y`
 * (a user who sees "other settings" must not have to diff two JSON objects by eye).
 */
export function differences(written: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(written), ...Object.keys(now)])].sort();
  const show = (v: unknown) => (v === undefined ? 'unset' : canonicalJson(v));
  return keys.filter((k) => canonicalJson(written[k] ?? null) !== canonicalJson(now[k] ?? null)).map((k) => `${k}: written with ${show(written[k])}, this run ${show(now[k])}`);
}
