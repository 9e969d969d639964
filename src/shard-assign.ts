import { badArgument } from './core/errors.js';

/** Which shard of how many this process writes. */
export interface ShardSpec {
  index: number;
  count: number;
}

/**
 * Half-open range [start, end) of the positions that shard `index` of `count` owns among `n`
 * sorted items: contiguous, in order, sizes differing by at most one, empty when there are more
 * shards than items. Concatenating the shards in index order gives back the whole list, so a
 * sharded dataset equals a single-process one record for record.
 */
export function shardRange(n: number, index: number, count: number): { start: number; end: number } {
  if (!Number.isInteger(count) || count < 1) throw badArgument('shard count', 'a positive integer', count);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw badArgument('shard index', `an integer in 0..${count - 1}`, index);
  if (!Number.isInteger(n) || n < 0) throw badArgument('item count', 'a non-negative integer', n);
  // Floor of exact multiples: integer arithmetic stays exact far beyond any dataset size.
  return { start: Math.floor((index * n) / count), end: Math.floor(((index + 1) * n) / count) };
}

/** The items of shard `index` of `count`: a pure function of the sorted list, so tasks agree without talking. */
export function shardOf<T>(sorted: readonly T[], index: number, count: number): T[] {
  const { start, end } = shardRange(sorted.length, index, count);
  return sorted.slice(start, end);
}

/**
 * Order of ids: numbers inside ids compare as numbers (`9_left` < `10_left`), then plain code
 * points; no locale, so every machine sorts the same way.
 */
export function compareIds(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [], pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!, y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x), dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, ''), ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      // Same number written with different zero padding: fall through to code points.
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parse `INDEX/COUNT` (e.g. `3/8`). */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw badArgument('--shard', 'INDEX/COUNT such as 0/4', text);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index >= count) throw badArgument('--shard', `INDEX/COUNT with 0 <= INDEX < COUNT`, text);
  return { index, count };
}

/**
 * The shard of a Slurm array task: `(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / STEP` of
 * `SLURM_ARRAY_TASK_COUNT`, so `--array=1-8` works like `--array=0-7` (and `0-14:2` too).
 * Undefined outside an array job. An array that is not one regular range (`--array=2,5`, e.g. a
 * resubmission of some tasks) cannot be mapped from the variables alone: that is an error asking
 * for an explicit `--shard INDEX/COUNT` (e.g. `--shard $SLURM_ARRAY_TASK_ID/8`), never a silent
 * guess that would write the wrong shard.
 */
export function shardFromSlurm(env: NodeJS.ProcessEnv = process.env): ShardSpec | undefined {
  const { SLURM_ARRAY_TASK_ID: id, SLURM_ARRAY_TASK_MIN: min, SLURM_ARRAY_TASK_MAX: max, SLURM_ARRAY_TASK_COUNT: count, SLURM_ARRAY_TASK_STEP: stepText } = env;
  if (id === undefined) return undefined;
  const hint = 'Pass --shard INDEX/COUNT explicitly (e.g. --shard $SLURM_ARRAY_TASK_ID/8 when task ids are shard numbers).';
  const num = (name: string, v: string | undefined, fallback?: number): number => {
    if (v === undefined && fallback !== undefined) return fallback;
    if (v === undefined || !/^\d+$/.test(v)) throw badArgument(name, 'a non-negative integer', v, hint);
    return Number(v);
  };
  // Without the count every task would think it is the only one and write the same shard.
  const n = num('SLURM_ARRAY_TASK_COUNT', count);
  const lo = num('SLURM_ARRAY_TASK_MIN', min, 0);
  const step = Math.max(1, num('SLURM_ARRAY_TASK_STEP', stepText, 1));
  const task = num('SLURM_ARRAY_TASK_ID', id);
  const hi = max === undefined ? lo + (n - 1) * step : num('SLURM_ARRAY_TASK_MAX', max);
  if (n < 1 || (hi - lo) / step + 1 !== n || (task - lo) % step !== 0 || task < lo || task > hi) {
    throw badArgument('the Slurm array', `one regular range of SLURM_ARRAY_TASK_COUNT tasks from SLURM_ARRAY_TASK_MIN to _MAX`,
      `task ${id} of ${count ?? '?'} tasks, min ${min ?? '?'}, max ${max ?? '?'}, step ${stepText ?? 1}`, hint);
  }
  return { index: (task - lo) / step, count: n };
}
