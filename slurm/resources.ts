import { badArgument } from '../src/core/errors.js';

/** What a Slurm job asks of the scheduler; every field maps to one `#SBATCH` option. */
export interface SlurmResources {
  jobName: string;
  cpusPerTask: number;
  /** Memory per node in sbatch syntax: `4G`, `500M`, `1024` (megabytes). */
  mem: string;
  /** Wall-time limit in sbatch syntax: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`. */
  time: string;
  partition?: string | undefined;
  account?: string | undefined;
  /** GPUs per node, rendered as `--gres=gpu:G` (the spelling every Slurm version understands). */
  gpus?: number | undefined;
  /** Further `#SBATCH` options verbatim, e.g. `--qos=high` or `--constraint=avx2`. */
  extra?: readonly string[] | undefined;
  /** Fields left at retina's defaults (not given by the user): `fitDefaults` fits them to the cluster. */
  defaulted?: readonly ('cpusPerTask' | 'mem')[] | undefined;
}

/** Defaults sized for one preprocessing or training task on a typical cluster node. */
export const DEFAULT_RESOURCES = { cpusPerTask: 4, mem: '8G', time: '01:00:00' } as const;

/**
 * Seconds in a Slurm time limit; throws a BAD_ARGUMENT for anything sbatch would not accept
 * (this reports the typo before a job waits in the queue only to be refused).
 */
export function parseSlurmTime(text: string): number {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) throw badArgument('--time', 'a Slurm time limit such as 30, 01:00:00 or 2-00:00:00', text);
  const [, days, a, b, c] = m;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  let seconds: number;
  if (days !== undefined) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    seconds = n(days) * 86400 + n(a) * 3600 + n(b) * 60 + n(c);
  } else if (c !== undefined) {
    seconds = n(a) * 3600 + n(b) * 60 + n(c); // HH:MM:SS
  } else if (b !== undefined) {
    seconds = n(a) * 60 + n(b); // MM:SS
  } else {
    seconds = n(a) * 60; // MM
  }
  if (seconds <= 0) throw badArgument('--time', 'a time limit above zero', text);
  return seconds;
}

/**
 * How long before the time limit Slurm should send SIGTERM, so a task stops cleanly (its shard
 * left incomplete, never half-written) instead of being killed. Two minutes, or a quarter of
 * short limits. Slurm delivers these signals with up to a minute of slack.
 */
export function signalLeadSeconds(timeSeconds: number): number {
  return Math.max(1, Math.min(120, Math.floor(timeSeconds / 4)));
}

/** Check resources and return them in canonical form; throws BAD_ARGUMENT naming the flag. */
export function validateResources(r: SlurmResources): SlurmResources {
  if (!Number.isInteger(r.cpusPerTask) || r.cpusPerTask < 1) throw badArgument('--cpus-per-task', 'a positive integer', r.cpusPerTask);
  if (!/^\d+[KMGT]?$/i.test(r.mem)) throw badArgument('--mem', 'a memory size such as 500M, 4G or 4096', r.mem);
  parseSlurmTime(r.time);
  const name = /^[A-Za-z0-9_.,-]+$/;
  if (r.partition !== undefined && !name.test(r.partition)) throw badArgument('--partition', 'a partition name (letters, digits, _ . , -)', r.partition);
  if (r.account !== undefined && !name.test(r.account)) throw badArgument('--account', 'an account name (letters, digits, _ . , -)', r.account);
  if (r.gpus !== undefined && (!Number.isInteger(r.gpus) || r.gpus < 0)) throw badArgument('--gpus', 'a non-negative integer', r.gpus);
  if (r.jobName.trim() === '') throw badArgument('--job-name', 'a non-empty name', r.jobName);
  for (const opt of r.extra ?? []) {
    if (!/^--?[A-Za-z]/.test(opt) || /[\r\n]/.test(opt)) throw badArgument('--sbatch-option', 'one sbatch option such as --qos=high', opt);
  }
  return { ...r, mem: r.mem.toUpperCase() };
}
