import { setTimeout as sleep } from 'node:timers/promises';
import { RetinaError } from '../src/core/errors.js';
import { silentLogger, type Logger } from '../src/core/log.js';
import { exitCodeOf, parseSacct, parseSqueue, stateKind, type JobRow, type StateKind } from './job-states.js';
import { runSlurmTool } from './slurm-cli.js';
import { unavailableNodesError, waitsOnNodes } from './cluster-nodes.js';
import { isHopeless, neverStartsError } from './pending-reasons.js';
import type { SlurmResources } from './resources.js';

/** A job or array task to watch, with what to call it and where its log is. */
export interface WatchedJob {
  /** `12_3` for an array task, `13` for a plain job. */
  id: string;
  label: string;
  log: string;
}

/** How a watched job ended. */
export interface JobOutcome extends WatchedJob {
  state: string;
  kind: Exclude<StateKind, 'active'>;
  /** Slurm's reason or exit code (`NonZeroExitCode, exit 3:0`), empty when none. */
  detail: string;
}

export interface WaitOptions {
  logger?: Logger;
  /** First and longest pause between polls; the pause grows 1.5x while nothing changes. */
  minIntervalMs?: number;
  maxIntervalMs?: number;
  /** Give up (INCOMPLETE) after this long; the jobs keep running. Default: no limit. */
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** What the jobs asked for: names the flag to change when one can never start. */
  resources?: SlurmResources;
}

/** Print the tally again after this long without a change. */
const HEARTBEAT_MS = 60_000;

/** Polls in a row a job may be missing from both squeue and sacct before it counts as lost. */
const MISSING_POLLS = 3;

/**
 * Wait until every job in `jobs` has ended, polling `squeue -t all` (which keeps finished jobs
 * for MinJobAge, 5 minutes by default) and, for jobs it no longer lists, `sacct`. Logs each state
 * change and a one-line tally. Resolves with every outcome, failures included: the caller decides
 * what a failure means. Throws INCOMPLETE on timeout, ABORTED when `signal` fires, and EXTERNAL
 * (exit 9) as soon as a job is pending for a reason that waiting cannot clear (the job stays queued).
 */
export async function waitForJobs(jobs: readonly WatchedJob[], opts: WaitOptions = {}): Promise<JobOutcome[]> {
  const logger = opts.logger ?? silentLogger;
  const minMs = opts.minIntervalMs ?? 1000, maxMs = opts.maxIntervalMs ?? 10_000;
  const started = Date.now();
  const last = new Map<string, string>();
  const missing = new Map<string, number>();
  const done = new Map<string, JobOutcome>();
  let pause = minMs;
  let lastTally = '';
  let lastPrinted = started;
  for (;;) {
    if (opts.signal?.aborted) throw new RetinaError('ABORTED', 'Stopped waiting; the Slurm jobs keep running (squeue to follow them).');
    const pending = jobs.filter((j) => !done.has(j.id));
    const { rows, trusted } = await pollStates(pending.map((j) => j.id), opts.env);
    if (!trusted) logger.warn('squeue failed (controller busy or down?); retrying');
    let changed = false;
    for (const job of pending) {
      const row = rows.get(job.id);
      if (!row) {
        if (!trusted) continue; // an unanswered poll says nothing about the job
        const n = (missing.get(job.id) ?? 0) + 1;
        missing.set(job.id, n);
        if (n >= MISSING_POLLS) {
          done.set(job.id, { ...job, state: 'UNKNOWN', kind: 'failed', detail: 'left the queue with no recorded state (squeue and sacct know nothing of it)' });
          changed = true;
        }
        continue;
      }
      missing.delete(job.id);
      const shown = row.reason && row.reason !== 'None' ? `${row.state} (${row.reason})` : row.state;
      if (last.get(job.id) !== shown) {
        last.set(job.id, shown);
        logger.info(`${job.label} [${job.id}]: ${shown}`);
        changed = true;
      }
      // Waiting on hosts that do not answer (or are down/drained) could last forever: stop and name them.
      if (row.state === 'PENDING' && waitsOnNodes(row.reason)) {
        const stuck = await unavailableNodesError(job, row.reason, opts.env);
        if (stuck) throw stuck;
      }
      // A reason that waiting cannot clear (PartitionConfig, ...): stop now, naming the flag.
      if (row.state === 'PENDING' && isHopeless(row.reason)) throw await neverStartsError(job, row.reason, opts.resources, opts.env);
      const kind = stateKind(row.state);
      if (kind !== 'active') {
        const detail = kind === 'failed' ? await failureDetail(job.id, row, opts.env) : '';
        done.set(job.id, { ...job, state: row.state, kind, detail });
      }
    }
    const tally = tallyLine(jobs, done, last);
    if (tally !== lastTally) {
      logger.info(tally);
      lastTally = tally;
      lastPrinted = Date.now();
    } else if (Date.now() - lastPrinted >= HEARTBEAT_MS) {
      // Long tasks change state rarely: show that the wait is alive.
      logger.info(`${tally} (waiting for ${Math.round((Date.now() - started) / 1000)} s)`);
      lastPrinted = Date.now();
    }
    if (done.size === jobs.length) return jobs.map((j) => done.get(j.id) as JobOutcome);
    if (opts.timeoutMs !== undefined && Date.now() - started > opts.timeoutMs) {
      throw new RetinaError('INCOMPLETE', `Gave up waiting after ${Math.round(opts.timeoutMs / 1000)} s; ${jobs.length - done.size} job(s) still running or pending (they keep going).`, {
        hint: 'Follow them with squeue; nothing was cancelled.',
      });
    }
    pause = changed ? minMs : Math.min(maxMs, Math.round(pause * 1.5));
    await sleep(pause, undefined, opts.signal ? { signal: opts.signal } : undefined).catch(() => undefined);
  }
}

/**
 * Current rows for `ids` (array tasks and plain jobs): squeue first, sacct for what it lacks.
 * `trusted` is false when squeue failed for another reason than unknown job ids (controller
 * unreachable): a job missing from such a poll must not count as gone.
 */
export async function pollStates(ids: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ rows: Map<string, JobRow>; trusted: boolean }> {
  const found = new Map<string, JobRow>();
  if (ids.length === 0) return { rows: found, trusted: true };
  const base = [...new Set(ids.map((id) => id.split('_')[0] as string))];
  const q = await runSlurmTool('squeue', ['-h', '-r', '-t', 'all', '-j', base.join(','), '-o', '%i|%T|%r'], env === undefined ? {} : { env });
  // squeue exits 1 ("Invalid job id") once every listed job has aged out; sacct may still know.
  if (q.code === 0) for (const row of parseSqueue(q.stdout)) found.set(row.id, row);
  const trusted = q.code === 0 || /invalid job id/i.test(q.stderr);
  const lacking = ids.filter((id) => !found.has(id));
  if (lacking.length > 0) {
    const a = await runSlurmTool('sacct', ['-n', '-P', '-X', '-j', [...new Set(lacking.map((id) => id.split('_')[0]))].join(','), '-o', 'JobID,State,ExitCode'], env === undefined ? {} : { env }).catch(() => undefined);
    if (a && a.code === 0) for (const row of parseSacct(a.stdout)) if (!found.has(row.id)) found.set(row.id, row);
  }
  return { rows: found, trusted };
}

async function failureDetail(id: string, row: JobRow, env?: NodeJS.ProcessEnv): Promise<string> {
  const parts = row.reason && row.reason !== 'None' ? [row.reason] : [];
  const s = await runSlurmTool('scontrol', ['-o', 'show', 'job', id], env === undefined ? {} : { env }).catch(() => undefined);
  const exit = s && s.code === 0 ? exitCodeOf(s.stdout) : undefined;
  if (exit !== undefined && !parts.some((p) => p.includes(exit))) parts.push(`exit ${exit}`);
  return parts.join(', ');
}

function tallyLine(jobs: readonly WatchedJob[], done: Map<string, JobOutcome>, last: Map<string, string>): string {
  let ok = 0, failed = 0, running = 0, pending = 0;
  for (const j of jobs) {
    const d = done.get(j.id);
    if (d) d.kind === 'ok' ? ok++ : failed++;
    else if ((last.get(j.id) ?? '').startsWith('RUNNING')) running++;
    else pending++;
  }
  return `slurm: ${ok}/${jobs.length} done, ${running} running, ${pending} waiting, ${failed} failed`;
}

/** One line per failed job: label, id, state, detail, log. */
export function describeFailures(outcomes: readonly JobOutcome[]): string {
  return outcomes
    .filter((o) => o.kind === 'failed')
    .map((o) => `${o.label} [${o.id}] ${o.state}${o.detail ? ` (${o.detail})` : ''}; log: ${o.log}`)
    .join('\n');
}
