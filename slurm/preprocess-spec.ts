import { checkWord, renderArgv, resolvePaths, type PassedValues } from '../src/cli/flag-spec.js';
import { PREPROCESS_FLAGS } from '../src/cli/preprocess-flags.js';
import type { ArrayPlan } from './array-spec.js';
import type { SlurmResources } from './resources.js';

/**
 * The `retina preprocess` flags a Slurm array passes on unchanged to every task (the record's
 * flags but those marked `slurm: 'skip'`: --shard and --threads come from Slurm). Paths are
 * absolute, because a job may start in another folder than the one the user typed the command in.
 */
export type PreprocessFlags = PassedValues<typeof PREPROCESS_FLAGS> & { images: string; labels: string; out: string };

/** Everything a preprocess array job is made of. */
export interface PreprocessJobSpec {
  plan: ArrayPlan;
  preprocess: PreprocessFlags;
  resources: SlurmResources;
  /** Index job resources: same account/partition, one CPU, little memory. */
  indexResources: SlurmResources;
}


/** Make the paths absolute against `cwd`; check the format name is a plain word. */
export function resolvePreprocessFlags(p: PreprocessFlags, cwd: string = process.cwd()): PreprocessFlags {
  checkWord('--format', p.format, 'a format name such as lmdb');
  return resolvePaths(PREPROCESS_FLAGS, p, cwd);
}

/** argv for `retina preprocess` (after the command name), without --shard and --threads. */
export function preprocessArgv(p: PreprocessFlags): string[] {
  return renderArgv(PREPROCESS_FLAGS, p);
}

/**
 * argv for `retina slurm preprocess` that renders this very job again (without --only, --submit,
 * --wait, --json, --script): the base of the resubmit command `retina index` prints.
 */
export function slurmPreprocessArgv(spec: PreprocessJobSpec): string[] {
  const r = spec.resources;
  const argv = ['--tasks', String(spec.plan.tasks)];
  if (spec.plan.offset !== 0) argv.push('--array-offset', String(spec.plan.offset));
  if (spec.plan.throttle !== undefined) argv.push('--throttle', String(spec.plan.throttle));
  argv.push(...preprocessArgv(spec.preprocess));
  argv.push('--cpus-per-task', String(r.cpusPerTask), '--mem', r.mem, '--time', r.time);
  if (r.partition !== undefined) argv.push('--partition', r.partition);
  if (r.account !== undefined) argv.push('--account', r.account);
  argv.push('--job-name', r.jobName);
  for (const opt of r.extra ?? []) argv.push(`--sbatch-option=${opt}`);
  return argv;
}
