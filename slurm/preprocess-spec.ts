import { isAbsolute, resolve } from 'node:path';
import { badArgument } from '../src/core/errors.js';
import type { ArrayPlan } from './array-spec.js';
import type { SlurmResources } from './resources.js';

/**
 * The `retina preprocess` flags a Slurm array passes on unchanged to every task. `--shard` and
 * `--threads` are not here: each task takes them from Slurm. Paths are absolute, because a job
 * may start in another folder than the one the user typed the command in.
 */
export interface PreprocessFlags {
  format: string;
  images: string;
  labels: string;
  out: string;
  size?: number | undefined;
  dtype?: string | undefined;
  crop?: string | undefined;
  normalize?: string | undefined;
  valFraction?: number | undefined;
  seed?: number | undefined;
  limit?: number | undefined;
  idColumn?: string | undefined;
  labelColumn?: string | undefined;
  skipInvalid?: boolean | undefined;
  force?: boolean | undefined;
}

/** Everything a preprocess array job is made of. */
export interface PreprocessJobSpec {
  plan: ArrayPlan;
  preprocess: PreprocessFlags;
  resources: SlurmResources;
  /** Index job resources: same account/partition, one CPU, little memory. */
  indexResources: SlurmResources;
}

/** Default dataset folder of `retina preprocess`, kept in step with it: `./retina-data/<format>`. */
export function defaultDatasetDir(format: string, cwd: string = process.cwd()): string {
  return resolve(cwd, 'retina-data', format);
}

/** Make the paths absolute against `cwd`; check the format name is a plain word. */
export function resolvePreprocessFlags(p: PreprocessFlags, cwd: string = process.cwd()): PreprocessFlags {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(p.format)) throw badArgument('--format', 'a format name such as lmdb', p.format);
  const abs = (x: string) => (isAbsolute(x) ? resolve(x) : resolve(cwd, x));
  return { ...p, images: abs(p.images), labels: abs(p.labels), out: abs(p.out) };
}

/** Flags in the order they are rendered; name is the CLI spelling. */
const PASS_THROUGH: ReadonlyArray<readonly [keyof PreprocessFlags, string]> = [
  ['format', 'format'], ['images', 'images'], ['labels', 'labels'], ['out', 'out'],
  ['size', 'size'], ['dtype', 'dtype'], ['crop', 'crop'], ['normalize', 'normalize'],
  ['valFraction', 'val-fraction'], ['seed', 'seed'], ['limit', 'limit'],
  ['idColumn', 'id-column'], ['labelColumn', 'label-column'],
  ['skipInvalid', 'skip-invalid'], ['force', 'force'],
];

/** argv for `retina preprocess` (after the command name), without --shard and --threads. */
export function preprocessArgv(p: PreprocessFlags): string[] {
  const argv: string[] = [];
  for (const [key, flag] of PASS_THROUGH) {
    const v = p[key];
    if (v === undefined || v === false) continue;
    if (v === true) argv.push(`--${flag}`);
    else argv.push(`--${flag}`, String(v));
  }
  return argv;
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
