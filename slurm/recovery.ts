import { open } from 'node:fs/promises';
import { compressRanges } from './array-spec.js';
import { stateWord } from './job-states.js';
import type { JobOutcome } from './wait.js';
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

/**
 * Exit statuses of a retina task that the same inputs give again (bad argument, bad input, not
 * found, corrupt, exists, unsupported): resubmitting the task repeats the failure. Time limits,
 * node failures, preemption, cancellation, interruption (130) and external-tool errors (9) can
 * pass on a second try.
 */
const REPEATS = new Set([2, 3, 4, 5, 7, 8]);

/** Whether resubmitting a failed task can help (see `REPEATS`). */
export function resubmitCanHelp(outcome: Pick<JobOutcome, 'state' | 'detail'>): boolean {
  if (stateWord(outcome.state) !== 'FAILED') return true;
  const exit = /\bexit (\d+):/.exec(outcome.detail);
  return !(exit && REPEATS.has(Number(exit[1])));
}

/**
 * The error a retina task printed (`Error [CODE]: message`, its continuation lines and `Hint:`),
 * from the end of its log (the last 64 KiB: logs of long runs stay unread); undefined without one.
 */
export async function taskError(log: string): Promise<{ error: string; hint?: string } | undefined> {
  let text: string;
  try {
    const fh = await open(log, 'r');
    try {
      const { size } = await fh.stat();
      const buf = Buffer.alloc(Math.min(size, 64 << 10));
      await fh.read(buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const at = lines.findLastIndex((l) => /^Error \[[A-Z_]+\]: /.test(l));
  if (at < 0) return undefined;
  const body: string[] = [];
  let hint: string | undefined;
  for (const line of lines.slice(at, at + 20)) {
    if (line.startsWith('Hint: ')) { hint = line.slice('Hint: '.length); break; }
    if (body.length > 0 && (line === '' || line.startsWith('retina: exit status'))) break;
    body.push(line);
  }
  return { error: body.join('\n'), ...(hint ? { hint } : {}) };
}
