import { mkdir, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { RetinaError } from '../src/core/errors.js';
import { writeFileAtomic } from '../src/core/atomic-write.js';
import { silentLogger, type Logger } from '../src/core/log.js';
import { taskIdOf } from './array-spec.js';
import { recordSubmission } from './job-record.js';
import { fitDefaults } from './cluster-info.js';
import { slurmPreprocessArgv, type PreprocessJobSpec } from './preprocess-spec.js';
import { formatResubmitHint, resubmitCanHelp, resubmitHint, taskError } from './recovery.js';
import { indexLogPath, logDir, renderIndexScript, renderPreprocessScript, taskLogPath } from './render-preprocess.js';
import { currentRetina } from './retina-invocation.js';
import { sbatch } from './slurm-cli.js';
import { describeFailures, waitForJobs, type JobOutcome } from './wait.js';
import type { SlurmJobOptions } from './job-options.js';

export type SlurmPreprocessOptions = SlurmJobOptions<PreprocessJobSpec>;

/** `retina slurm preprocess --json`. Job ids are null unless submitted. */
export interface SlurmPreprocessResult {
  arrayJobId: string | null;
  indexJobId: string | null;
  /** Array tasks in this submission (one per shard in `shards`). */
  tasks: number;
  /** Shards of the dataset (`--tasks`). */
  shardCount: number;
  shards: number[];
  dataset: string;
  logs: string;
  script: string;
  indexScript: string;
  scriptFile: string | null;
  indexScriptFile: string | null;
  /** Per-task outcomes, with --wait. */
  outcomes: JobOutcome[] | null;
}

/** `prep.sbatch` => `prep.index.sbatch`. */
export function indexScriptPath(file: string): string {
  const ext = extname(file);
  return ext ? `${file.slice(0, -ext.length)}.index${ext}` : `${file}.index.sbatch`;
}

async function writeScript(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text, { mode: 0o755 });
}

/**
 * Before queueing N tasks that would each fail on it: preprocess's own checks (`validatePreprocess`:
 * the labels against the images folder, --skip-invalid, the shard count of an existing dataset),
 * run here on the same shared files the tasks read. A failure is reported and nothing is submitted.
 */
async function checkInputs(spec: PreprocessJobSpec, logger: Logger): Promise<void> {
  for (const [flag, path, kind] of [['--images', spec.preprocess.images, 'folder'], ['--labels', spec.preprocess.labels, 'file']] as const) {
    const st = await stat(path).catch(() => undefined);
    if (!st || (kind === 'folder' ? !st.isDirectory() : !st.isFile())) {
      throw new RetinaError('NOT_FOUND', `${flag}: no ${kind} at ${path}; nothing was submitted`, {
        location: { file: path },
        hint: `Give ${flag} a path the compute nodes can read (shared filesystem), or render without --submit to inspect the script.`,
      });
    }
  }
  const p = spec.preprocess;
  const { validatePreprocess } = await import('../src/preprocess/run.js');
  try {
    await validatePreprocess({
      images: p.images, labels: p.labels, out: p.out, format: p.format, valFraction: p.valFraction ?? 0.1, seed: p.seed ?? 0,
      limit: p.limit, skipInvalid: p.skipInvalid ?? false, allowEmpty: p.allowEmpty ?? false, idColumn: p.idColumn, labelColumn: p.labelColumn, shard: { count: spec.plan.tasks },
    }, logger);
  } catch (err) {
    if (!(err instanceof RetinaError)) throw err;
    throw new RetinaError(err.code, `${err.message}\nNothing was submitted: every task would fail on this.`, { location: err.location, ...(err.hint ? { hint: err.hint } : {}), cause: err.cause });
  }
}

/**
 * Render the array and index scripts; optionally write them, submit them (the index job after
 * the array, `afterok`), record the submission in `DATASET/slurm-job.json`, and wait. With
 * --wait, a failed, cancelled or timed-out task is an INCOMPLETE error naming each such task,
 * its log, and the command that resubmits only the missing shards.
 */
export async function slurmPreprocess(opts: SlurmPreprocessOptions): Promise<SlurmPreprocessResult> {
  const logger = opts.logger ?? silentLogger;
  const spec = { ...opts.spec, resources: await fitDefaults(opts.spec.resources, { env: opts.env, logger }) };
  const retina = opts.retina ?? currentRetina();
  const dataset = spec.preprocess.out;
  const script = renderPreprocessScript(spec, retina);
  let indexScript = renderIndexScript(spec, retina);
  const result: SlurmPreprocessResult = {
    arrayJobId: null, indexJobId: null, tasks: spec.plan.shards.length, shardCount: spec.plan.tasks, shards: spec.plan.shards,
    dataset, logs: logDir(dataset), script, indexScript, scriptFile: null, indexScriptFile: null, outcomes: null,
  };
  if (opts.scriptFile !== undefined) {
    result.scriptFile = resolve(opts.scriptFile);
    result.indexScriptFile = indexScriptPath(result.scriptFile);
    await writeScript(result.scriptFile, script);
    await writeScript(result.indexScriptFile, indexScript);
    logger.info(`wrote ${result.scriptFile} and ${result.indexScriptFile}`);
  }
  if (!opts.submit) {
    if (opts.wait) throw new RetinaError('BAD_ARGUMENT', '--wait needs --submit', { hint: 'Add --submit, or drop --wait to only render the scripts.' });
    return result;
  }

  await checkInputs(spec, logger);
  // Slurm does not create the folder of --output; a task whose log cannot be opened fails with no log to say why.
  await mkdir(logDir(dataset), { recursive: true });
  const arrayJobId = await sbatch(script, [], opts.env);
  indexScript = renderIndexScript(spec, retina, arrayJobId);
  const record = (indexJobId: string) => recordSubmission(
    { dataset, tasks: spec.plan.tasks, offset: spec.plan.offset, argv: slurmPreprocessArgv(spec) },
    { arrayJobId, indexJobId, shards: spec.plan.shards, submittedAt: new Date().toISOString() },
  );
  let indexJobId: string;
  try {
    indexJobId = await sbatch(indexScript, [], opts.env);
  } catch (err) {
    // The array is already queued: keep its record (recovery needs it) and say how to finish.
    await record('');
    throw new RetinaError('EXTERNAL', `Array job ${arrayJobId} was submitted, but its index job was not: ${err instanceof Error ? err.message : String(err)}`, {
      location: { file: dataset },
      hint: `Once the array has finished, run: retina index ${dataset}`,
      cause: err,
    });
  }
  Object.assign(result, { arrayJobId, indexJobId, indexScript });
  await record(indexJobId);
  logger.info(`submitted array job ${arrayJobId} (${spec.plan.shards.length} tasks) and index job ${indexJobId}; logs in ${logDir(dataset)}`);
  if (!opts.wait) return result;

  const waitOpts = { ...opts.waitOptions, logger, ...(opts.env ? { env: opts.env } : {}) };
  const tasks = await waitForJobs(spec.plan.shards.map((shard) => {
    const t = taskIdOf(spec.plan, shard);
    return { id: `${arrayJobId}_${t}`, label: `shard ${shard}/${spec.plan.tasks}`, log: taskLogPath(dataset, arrayJobId, t) };
  }), { ...waitOpts, resources: spec.resources });
  result.outcomes = tasks;
  if (tasks.some((o) => o.kind === 'failed')) {
    // waitForJobs keeps the order of its input: outcome i is shard plan.shards[i].
    const missing = spec.plan.shards.filter((_, i) => tasks[i]?.kind === 'failed');
    const summary = `Slurm array job ${arrayJobId}: ${missing.length} of ${tasks.length} tasks did not complete:\n${describeFailures(tasks)}\nIndex job ${indexJobId} will not run (its dependency failed).`;
    // A task that failed on its inputs fails the same way again: show its own error, not --only.
    const repeats = tasks.find((o) => o.kind === 'failed' && !resubmitCanHelp(o));
    if (repeats) {
      const own = await taskError(repeats.log);
      throw new RetinaError('INCOMPLETE', `${summary}\n${repeats.label} failed with an error that resubmitting would repeat${own ? `:\n${own.error}` : ` (${repeats.detail}); see ${repeats.log}`}`, {
        location: { file: dataset, shard: missing[0] as number },
        hint: `${own?.hint ? `${own.hint} ` : ''}Fix the cause first (read ${repeats.log}), then run retina slurm preprocess again with --submit.`,
      });
    }
    const hint = await resubmitHint(dataset, missing, spec.plan.tasks);
    throw new RetinaError('INCOMPLETE', summary, {
      location: { file: dataset, shard: missing[0] as number },
      hint: hint ? formatResubmitHint(hint) : `Rerun the missing shards with retina preprocess --shard N/${spec.plan.tasks}.`,
    });
  }
  const [index] = await waitForJobs([{ id: indexJobId, label: 'index', log: indexLogPath(dataset, indexJobId) }], { ...waitOpts, resources: spec.indexResources });
  result.outcomes = [...tasks, index as JobOutcome];
  if (index && index.kind === 'failed') {
    throw new RetinaError('INCOMPLETE', `Every shard was written, but index job ${indexJobId} ${index.state}${index.detail ? ` (${index.detail})` : ''}; log: ${index.log}`, {
      location: { file: dataset },
      hint: `Read the log, then run: retina index ${dataset}`,
    });
  }
  return result;
}
