import { join } from 'node:path';
import { arrayDirective } from './array-spec.js';
import { directive, shellJoin, shellQuote } from './shell-quote.js';
import { invocationLines, resourceDirectives, RUN_RETINA, runForwardingTerm } from './script-parts.js';
import { preprocessArgv, type PreprocessJobSpec } from './preprocess-spec.js';
import type { RetinaInvocation } from './retina-invocation.js';

/** Folder of a dataset's Slurm logs: `DATASET/logs`. */
export function logDir(dataset: string): string {
  return join(dataset, 'logs');
}

/** Log file of array task `taskId` of array job `arrayJobId` (what `%A_%a.out` becomes). */
export function taskLogPath(dataset: string, arrayJobId: string, taskId: number): string {
  return join(logDir(dataset), `${arrayJobId}_${taskId}.out`);
}

/** Log file of the index job. */
export function indexLogPath(dataset: string, jobId: string): string {
  return join(logDir(dataset), `index-${jobId}.out`);
}

/**
 * The array script: one task per shard, each running `retina preprocess --shard S/N` with S from
 * `SLURM_ARRAY_TASK_ID` and its threads from `SLURM_CPUS_PER_TASK`. The shard is given explicitly
 * (rather than left to preprocess's own reading of `SLURM_ARRAY_TASK_MIN/COUNT`) because a
 * resubmission of some shards (`--array=2,5`) has a different task count than the dataset.
 */
export function renderPreprocessScript(spec: PreprocessJobSpec, retina: RetinaInvocation): string {
  const { plan, preprocess } = spec;
  const dataset = preprocess.out;
  const lines = [
    '#!/bin/bash',
    `# retina preprocess as a Slurm array job: ${plan.shards.length} of ${plan.tasks} shards of ${dataset}`,
    '# Rendered by `retina slurm preprocess`; edit freely. Array task T writes shard T - OFFSET.',
    `# Submit with:  mkdir -p ${shellQuote(logDir(dataset))} && sbatch THIS_FILE`,
    `# then, once every task has succeeded:  sbatch --dependency=afterok:ARRAY_JOB_ID INDEX_SCRIPT`,
    directive('array', arrayDirective(plan)),
    ...resourceDirectives(spec.resources, { dir: logDir(dataset), pattern: '%A_%a.out' }),
    '',
    'set -uo pipefail',
    ...invocationLines(retina),
    `TASKS=${plan.tasks}`,
    `OFFSET=${plan.offset}`,
    ': "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch as an array job}"',
    'SHARD=$((SLURM_ARRAY_TASK_ID - OFFSET))',
    'echo "retina: array task $SLURM_ARRAY_TASK_ID = shard $SHARD/$TASKS on $(hostname) at $(date -Is) (restart ${SLURM_RESTART_COUNT:-0})"',
    '',
    ...runForwardingTerm(
      `${RUN_RETINA} preprocess ${shellJoin(preprocessArgv(preprocess))} --shard "$SHARD/$TASKS" --threads "\${SLURM_CPUS_PER_TASK:-${spec.resources.cpusPerTask}}"`,
      'shard $SHARD cleanly',
    ),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The index script: `retina index DATASET`, run once every array task has succeeded. Given the
 * array's job id it carries the dependency itself; Slurm then cancels it if a task fails
 * (`--kill-on-invalid-dep`) rather than leaving it pending forever.
 */
export function renderIndexScript(spec: PreprocessJobSpec, retina: RetinaInvocation, arrayJobId?: string): string {
  const dataset = spec.preprocess.out;
  const lines = [
    '#!/bin/bash',
    `# retina index: combine the shard manifests of ${dataset} into manifest.json`,
    '# Rendered by `retina slurm preprocess`. Runs after the array job:',
    '#   sbatch --dependency=afterok:ARRAY_JOB_ID --kill-on-invalid-dep=yes THIS_FILE',
  ];
  if (arrayJobId !== undefined) {
    lines.push(directive('dependency', `afterok:${arrayJobId}`), directive('kill-on-invalid-dep', 'yes'));
  }
  lines.push(
    ...resourceDirectives(spec.indexResources, { dir: logDir(dataset), pattern: 'index-%j.out' }),
    '',
    'set -uo pipefail',
    ...invocationLines(retina),
    `DATASET=${shellQuote(dataset)}`,
    '',
    ...runForwardingTerm(`${RUN_RETINA} index "$DATASET"`, 'the index'),
  );
  return lines.join('\n') + '\n';
}
