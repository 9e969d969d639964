/**
 * Slurm job states as `squeue -t all` and `sacct` print them, in three kinds: still going,
 * finished well, finished badly.
 */
export type StateKind = 'active' | 'ok' | 'failed';

const ACTIVE = new Set([
  'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD',
  'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'SPECIAL_EXIT', 'RESV_DEL_HOLD', 'POWER_UP_NODE',
]);

/** Kind of a state word; `CANCELLED by 0` (sacct) counts as CANCELLED. Unknown words are active. */
export function stateKind(state: string): StateKind {
  const word = stateWord(state);
  if (word === 'COMPLETED') return 'ok';
  if (ACTIVE.has(word)) return 'active';
  if (['FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED'].includes(word)) return 'failed';
  // A state this code does not know yet: keep waiting rather than declare an outcome.
  return 'active';
}

/** First word, upper case, without sacct's `+` marker. */
export function stateWord(state: string): string {
  return (state.trim().split(/\s+/)[0] ?? '').replace(/\+$/, '').toUpperCase();
}

/** One row of a job listing: `12_3` (array task) or `13` (plain job). */
export interface JobRow {
  id: string;
  state: string;
  reason: string;
}

/**
 * Parse `squeue -h -r -t all -o '%i|%T|%r'` output. With `-r` every array task has its own row;
 * a row like `12_[4-7]` (older Slurm without -r support) is expanded.
 */
export function parseSqueue(stdout: string): JobRow[] {
  const rows: JobRow[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [id = '', state = '', reason = ''] = line.trim().split('|');
    for (const one of expandArrayId(id)) rows.push({ id: one, state: stateWord(state), reason: reason.trim() });
  }
  return rows;
}

/**
 * Parse `sacct -n -P -X -j IDS -o JobID,State,ExitCode`: rows `12_3|FAILED|3:0`,
 * `12_[4-7]|PENDING|0:0`, `13|CANCELLED by 0|0:0`. The exit code goes into `reason`.
 */
export function parseSacct(stdout: string): JobRow[] {
  const rows: JobRow[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [id = '', state = '', exit = ''] = line.trim().split('|');
    for (const one of expandArrayId(id)) rows.push({ id: one, state: stateWord(state), reason: exit ? `exit ${exit}` : '' });
  }
  return rows;
}

/** `12_[1-3,5%2]` => 12_1, 12_2, 12_3, 12_5; anything else unchanged. */
export function expandArrayId(id: string): string[] {
  const m = /^(\d+)_\[([^\]]+)\]$/.exec(id.trim());
  if (!m) return [id.trim()];
  const [, job, list = ''] = m;
  const out: string[] = [];
  for (const part of list.split('%')[0]!.split(',')) {
    const r = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (!r) continue;
    const lo = Number(r[1]), hi = r[2] === undefined ? lo : Number(r[2]), step = r[3] === undefined ? 1 : Number(r[3]);
    for (let t = lo; t <= hi; t += step) out.push(`${job}_${t}`);
  }
  return out;
}

/** Exit code from one `scontrol -o show job` line (`ExitCode=3:0`), or undefined. */
export function exitCodeOf(scontrolLine: string): string | undefined {
  return /\bExitCode=(\d+:\d+)/.exec(scontrolLine)?.[1];
}
