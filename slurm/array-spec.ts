import { badArgument } from '../src/core/errors.js';

/**
 * Which shards an array job runs and how Slurm numbers them. Shard `s` (0-based, as in
 * `shard-0000s-of-…` and in `retina index`) is array task `s + offset`; a task finds its shard
 * as `SLURM_ARRAY_TASK_ID - offset`. An offset lets sites that forbid task 0, or users who like
 * `--array=1-N`, keep their habit.
 */
export interface ArrayPlan {
  /** Shards in the dataset (the COUNT of `--shard INDEX/COUNT`). */
  tasks: number;
  offset: number;
  /** Shards this submission runs, ascending; all of them unless `--only` was given. */
  shards: number[];
  /** At most this many tasks at once (`%K`). */
  throttle?: number | undefined;
}

/** Parse `--only 2,5,7-9` into sorted unique shard numbers below `tasks`. */
export function parseOnly(text: string, tasks: number): number[] {
  const out = new Set<number>();
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw badArgument('--only', 'shard numbers such as 2,5 or 4-7', text);
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw badArgument('--only', 'ranges written low-high', text);
    if (hi >= tasks) throw badArgument('--only', `shard numbers from 0 to ${tasks - 1} (there are --tasks ${tasks} shards)`, text);
    for (let s = lo; s <= hi; s++) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}

/** Build and check an array plan. */
export function planArray(opts: { tasks: number; offset?: number; only?: readonly number[] | undefined; throttle?: number | undefined }): ArrayPlan {
  const { tasks } = opts;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(tasks) || tasks < 1) throw badArgument('--tasks', 'a positive integer', tasks);
  if (!Number.isInteger(offset) || offset < 0) throw badArgument('--array-offset', 'a non-negative integer', offset);
  if (opts.throttle !== undefined && (!Number.isInteger(opts.throttle) || opts.throttle < 1)) throw badArgument('--throttle', 'a positive integer', opts.throttle);
  const shards = opts.only === undefined ? Array.from({ length: tasks }, (_, i) => i) : [...new Set(opts.only)].sort((a, b) => a - b);
  if (shards.length === 0) throw badArgument('--only', 'at least one shard', opts.only);
  for (const s of shards) if (!Number.isInteger(s) || s < 0 || s >= tasks) throw badArgument('--only', `shard numbers from 0 to ${tasks - 1}`, s);
  return { tasks, offset, shards, throttle: opts.throttle };
}

/** Compress ascending integers into Slurm's range list: [0,1,2,5,7,8] => "0-2,5,7-8". */
export function compressRanges(values: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    const start = values[i] as number;
    let end = start;
    while (i + 1 < values.length && values[i + 1] === end + 1) end = values[++i] as number;
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/** The value of `#SBATCH --array=`: task ids (shards + offset), then `%K` when throttled. */
export function arrayDirective(plan: ArrayPlan): string {
  const ranges = compressRanges(plan.shards.map((s) => s + plan.offset));
  return plan.throttle === undefined ? ranges : `${ranges}%${plan.throttle}`;
}

/** Array task id that runs shard `shard`. */
export function taskIdOf(plan: ArrayPlan, shard: number): number {
  return shard + plan.offset;
}
