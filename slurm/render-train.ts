import { join, resolve } from 'node:path';
import { checkWord, renderArgv, resolvePaths, type PassedValues } from '../src/cli/flag-spec.js';
import { TRAIN_FLAGS } from '../src/cli/train-flags.js';
import { defaultDatasetDir } from '../src/defaults.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import { invocationLines, resourceDirectives, RUN_RETINA, runForwardingTerm } from './script-parts.js';
import type { SlurmResources } from './resources.js';
import type { RetinaInvocation } from './retina-invocation.js';

/**
 * `retina train` flags passed on to the job (every flag of TRAIN_FLAGS, in its order). Paths are
 * absolute (the job may start elsewhere). Booleans: true renders `--flag`, false renders
 * `--no-flag` where allowed (--cache-features), undefined leaves the trainer's default.
 */
export type TrainFlags = PassedValues<typeof TRAIN_FLAGS>;

export interface TrainJobSpec {
  train: TrainFlags;
  resources: SlurmResources;
  /** Folder of the job's log (`train-%j.out`). */
  logDir: string;
}

/** Absolute paths against `cwd`; a plain-word source. */
export function resolveTrainFlags(t: TrainFlags, cwd: string = process.cwd()): TrainFlags {
  checkWord('--source', t.source, 'a format name or "images"');
  return resolvePaths(TRAIN_FLAGS, t, cwd);
}

/**
 * Where the log goes when the user does not say: the dataset's `logs/` (beside the array job's
 * logs) for a format source, else `./logs`.
 */
export function defaultTrainLogDir(t: TrainFlags, cwd: string = process.cwd()): string {
  if (t.source === 'images') return resolve(cwd, 'logs');
  return join(t.data ?? defaultDatasetDir(t.source, cwd), 'logs');
}

/** argv for `retina train` (after the command name). */
export function trainArgv(t: TrainFlags): string[] {
  return renderArgv(TRAIN_FLAGS, t);
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
