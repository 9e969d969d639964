import { isAbsolute, join, resolve } from 'node:path';
import { badArgument } from '../src/core/errors.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import { invocationLines, resourceDirectives, RUN_RETINA, runForwardingTerm } from './script-parts.js';
import type { SlurmResources } from './resources.js';
import type { RetinaInvocation } from './retina-invocation.js';

/**
 * `retina train` flags passed on to the job. Paths are absolute (the job may start elsewhere).
 * Booleans: true renders `--flag`, false renders `--no-flag` (for --cache-features), undefined
 * leaves the trainer's default.
 */
export interface TrainFlags {
  source: string;
  data?: string | undefined;
  images?: string | undefined;
  labels?: string | undefined;
  model?: string | undefined;
  weights?: string | undefined;
  fineTune?: boolean | undefined;
  epochs?: number | undefined;
  batchSize?: number | undefined;
  lr?: string | undefined;
  seed?: number | undefined;
  backend?: string | undefined;
  out?: string | undefined;
  force?: boolean | undefined;
  cacheFeatures?: boolean | undefined;
  cacheDir?: string | undefined;
  microBatch?: number | undefined;
  threads?: number | undefined;
  imageSize?: number | undefined;
  crop?: string | undefined;
  normalize?: string | undefined;
  valFraction?: string | undefined;
  splitSeed?: number | undefined;
}

export interface TrainJobSpec {
  train: TrainFlags;
  resources: SlurmResources;
  /** Folder of the job's log (`train-%j.out`). */
  logDir: string;
}

const PATHS = ['data', 'images', 'labels', 'weights', 'out', 'cacheDir'] as const;

/** Absolute paths against `cwd`; a plain-word source. */
export function resolveTrainFlags(t: TrainFlags, cwd: string = process.cwd()): TrainFlags {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(t.source)) throw badArgument('--source', 'a format name or "images"', t.source);
  const out: TrainFlags = { ...t };
  for (const k of PATHS) {
    const v = t[k];
    if (v !== undefined) out[k] = isAbsolute(v) ? resolve(v) : resolve(cwd, v);
  }
  return out;
}

/**
 * Where the log goes when the user does not say: the dataset's `logs/` (beside the array job's
 * logs) for a format source, else `./logs`.
 */
export function defaultTrainLogDir(t: TrainFlags, cwd: string = process.cwd()): string {
  if (t.source === 'images') return resolve(cwd, 'logs');
  return join(t.data ?? resolve(cwd, 'retina-data', t.source), 'logs');
}

const ORDER: ReadonlyArray<readonly [keyof TrainFlags, string]> = [
  ['source', 'source'], ['data', 'data'], ['images', 'images'], ['labels', 'labels'], ['model', 'model'],
  ['weights', 'weights'], ['fineTune', 'fine-tune'], ['epochs', 'epochs'], ['batchSize', 'batch-size'], ['lr', 'lr'],
  ['microBatch', 'micro-batch'], ['seed', 'seed'], ['backend', 'backend'], ['out', 'out'], ['force', 'force'],
  ['cacheFeatures', 'cache-features'], ['cacheDir', 'cache-dir'], ['threads', 'threads'], ['imageSize', 'image-size'],
  ['crop', 'crop'], ['normalize', 'normalize'], ['valFraction', 'val-fraction'], ['splitSeed', 'split-seed'],
];

/** argv for `retina train` (after the command name). */
export function trainArgv(t: TrainFlags): string[] {
  const argv: string[] = [];
  for (const [key, flag] of ORDER) {
    const v = t[key];
    if (v === undefined) continue;
    if (v === true) argv.push(`--${flag}`);
    else if (v === false) {
      if (key === 'cacheFeatures') argv.push(`--no-${flag}`);
    } else argv.push(`--${flag}`, String(v));
  }
  return argv;
}

/** Log file of train job `jobId`. */
export function trainLogPath(spec: TrainJobSpec, jobId: string): string {
  return join(spec.logDir, `train-${jobId}.out`);
}

/**
 * The training script: one task running `retina train` on all CPUs Slurm gives it (the trainer
 * sizes its thread pools from SLURM_CPUS_PER_TASK) and, with --gpus, on the GPUs it gives it.
 */
export function renderTrainScript(spec: TrainJobSpec, retina: RetinaInvocation): string {
  const gpus = spec.resources.gpus ?? 0;
  const lines = [
    '#!/bin/bash',
    `# retina train under Slurm (source: ${spec.train.source})`,
    '# Rendered by `retina slurm train`; edit freely.',
    `# Submit with:  mkdir -p ${shellQuote(spec.logDir)} && sbatch THIS_FILE`,
    ...(gpus > 0 ? ['# GPUs need the native backend in this package: npm install @tensorflow/tfjs-node-gpu (CUDA nodes).'] : []),
    ...resourceDirectives(spec.resources, { dir: spec.logDir, pattern: 'train-%j.out' },
      'Requeue (node failure, preemption) reruns the training from the start.'),
    '',
    'set -uo pipefail',
    ...invocationLines(retina),
    'echo "retina: train job $SLURM_JOB_ID on $(hostname) with ${SLURM_CPUS_PER_TASK:-?} CPUs at $(date -Is) (restart ${SLURM_RESTART_COUNT:-0})"',
    '',
    ...runForwardingTerm(`${RUN_RETINA} train ${shellJoin(trainArgv(spec.train))}`, 'training'),
  ];
  return lines.join('\n') + '\n';
}
