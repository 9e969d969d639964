import { compressRanges } from './array-spec.js';
import { readJobRecord } from './job-record.js';
import { taskLogPath } from './render-preprocess.js';
import { shellJoin } from './shell-quote.js';

/** What to tell a user whose Slurm-made dataset lacks shards. */
export interface ResubmitHint {
  /** Shell command that resubmits exactly the missing shards (and a new index job). */
  command: string;
  /** The same as argv, after `retina`. */
  argv: string[];
  /** Log of the most recent task that ran each missing shard, when there was one. */
  logs: { shard: number; log: string }[];
}

/**
 * The resubmit command for `missing` shards of `dataset` (shard count `shardCount`), built from
 * `DATASET/slurm-job.json`. Undefined when the dataset was not made by `retina slurm preprocess`
 * or was made with another shard count (the record then describes a different job). With
 * `missing` "all" (no complete shard found at all), every shard of the recorded job.
 */
export async function resubmitHint(dataset: string, missing: readonly number[] | 'all', shardCount?: number): Promise<ResubmitHint | undefined> {
  const record = await readJobRecord(dataset).catch(() => undefined);
  if (!record || (shardCount !== undefined && record.tasks !== shardCount)) return undefined;
  const list = missing === 'all' ? Array.from({ length: record.tasks }, (_, i) => i) : missing;
  if (list.length === 0) return undefined;
  const shards = [...new Set(list)].sort((a, b) => a - b);
  const argv = ['slurm', 'preprocess', ...record.argv, '--only', compressRanges(shards), '--submit'];
  const logs: { shard: number; log: string }[] = [];
  for (const shard of shards) {
    const sub = [...record.submissions].reverse().find((s) => s.shards.includes(shard));
    if (sub) logs.push({ shard, log: taskLogPath(record.dataset, sub.arrayJobId, shard + record.offset) });
  }
  return { command: `retina ${shellJoin(argv)}`, argv, logs };
}

/** The lines `retina index` prints under its list of missing shards. */
export function formatResubmitHint(hint: ResubmitHint): string {
  const lines = ['These shards were made by a Slurm array job; resubmit only them with:', `  ${hint.command}`];
  if (hint.logs.length > 0) lines.push('Logs of their last attempts:', ...hint.logs.map((l) => `  shard ${l.shard}: ${l.log}`));
  return lines.join('\n');
}
