import { RetinaError } from '../src/core/errors.js';
import { memMb, partitionLimits } from './cluster-info.js';
import { parseSlurmTime } from './resources.js';
import type { SlurmResources } from './resources.js';

/**
 * Pending reasons (squeue `%r`) that waiting cannot clear: the job asks for something the
 * partition, QOS or account never grants, so it stays PENDING forever (seen: `--cpus-per-task 4`
 * on a 2-CPU node, PENDING (PartitionConfig), with EnforcePartLimits=NO accepting the job).
 * Reasons such as Resources, Priority or Dependency clear by themselves and are not here.
 */
const NEVER: Record<string, { why: string; flags: string }> = {
  PartitionConfig: { why: 'it asks for more than its partition allows (CPUs, memory or time per node)', flags: '--cpus-per-task, --mem, --time or --partition' },
  PartitionNodeLimit: { why: 'it asks for more nodes than its partition allows', flags: '--nodes or --partition' },
  PartitionTimeLimit: { why: 'its time limit is above its partition\'s', flags: '--time or --partition' },
  ReqNodeNotAvail: { why: 'the nodes it requires are not available (down, drained or reserved)', flags: '--partition (or --sbatch-option=--nodelist=...)' },
  InvalidQOS: { why: 'its QOS is not valid', flags: '--sbatch-option=--qos=...' },
  QOSJobLimit: { why: 'it exceeds its QOS\'s per-job limits', flags: '--cpus-per-task, --mem, --time or --sbatch-option=--qos=...' },
  InvalidAccount: { why: 'its account is not valid', flags: '--account' },
  BadConstraints: { why: 'its constraints or resources match no node', flags: '--sbatch-option (constraints), --gpus, --cpus-per-task or --mem' },
  PartitionDown: { why: 'its partition is down', flags: '--partition' },
};

/** The reason word (`ReqNodeNotAvail, UnavailableNodes:n1` → `ReqNodeNotAvail`). */
function reasonWord(reason: string): string {
  return reason.trim().split(/[\s,(]/)[0] ?? '';
}

/** Whether a pending job with this reason can never start by waiting. */
export function isHopeless(reason: string): boolean {
  return Object.hasOwn(NEVER, reasonWord(reason));
}

/**
 * The EXTERNAL error (exit 9) that stops a wait on a job that can never start: the job, its
 * reason, and the flag to change. With the job's resources, compares them with `sinfo` to name
 * the one flag that does not fit (`--cpus-per-task 4: the nodes of partition debug have 2 CPUs`).
 */
export async function neverStartsError(job: { id: string; label: string }, reason: string, resources?: SlurmResources, env?: NodeJS.ProcessEnv): Promise<RetinaError> {
  const word = reasonWord(reason);
  const known = NEVER[word] ?? { why: 'Slurm will not schedule it', flags: 'the resource flags' };
  let fix = `change ${known.flags}`;
  if (resources && (word === 'PartitionConfig' || word === 'BadConstraints' || word === 'PartitionTimeLimit')) {
    const limits = await partitionLimits(resources.partition, env);
    if (limits) {
      const where = `the nodes of partition ${limits.partition}`;
      const misfits: string[] = [];
      if (resources.cpusPerTask > limits.cpus) misfits.push(`--cpus-per-task ${resources.cpusPerTask}: ${where} have ${limits.cpus} CPUs (pass --cpus-per-task ${limits.cpus} or less)`);
      if (limits.memoryMb > 1 && memMb(resources.mem) > limits.memoryMb) misfits.push(`--mem ${resources.mem}: ${where} have ${limits.memoryMb} MB (pass --mem ${limits.memoryMb}M or less)`);
      if (/^\d/.test(limits.timeLimit) && parseSlurmTime(resources.time) > parseSlurmTime(limits.timeLimit)) misfits.push(`--time ${resources.time}: partition ${limits.partition} allows ${limits.timeLimit}`);
      if (misfits.length) fix = misfits.join('; ');
    }
  }
  return new RetinaError('EXTERNAL', `${job.label} [${job.id}] can never start: it is PENDING (${reason}) because ${known.why}. Stopped waiting.`, {
    hint: `${fix[0]!.toUpperCase()}${fix.slice(1)}, then submit again; the pending job is still queued: scancel ${job.id.split('_')[0]}.`,
  });
}
