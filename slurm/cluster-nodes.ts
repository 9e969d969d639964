import { RetinaError } from '../src/core/errors.js';
import { parseSinfo } from './cluster-info.js';
import { runSlurmTool } from './slurm-cli.js';

/**
 * What the cluster's nodes say when a job cannot get them: a partition that does not exist, a
 * request no node meets, hosts that stopped answering. Each turns an endless PENDING (or
 * sbatch's terse refusal) into an error that names the nodes and what to change.
 */

/** A node as `sinfo -N` reports it. */
export interface NodeRow {
  node: string;
  /** `idle`, `down*` (the trailing `*`: not responding), `drained`, ... */
  state: string;
  /** The admin's or Slurm's reason (`Not responding`), `none` when there is none. */
  reason: string;
  partition: string;
}

/** Parse `sinfo -h -N -o '%N|%T|%E|%R'` (a node in two partitions has two rows). */
export function parseSinfoNodes(stdout: string): NodeRow[] {
  const rows: NodeRow[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [node = '', state = '', reason = '', partition = ''] = line.trim().split('|');
    rows.push({ node, state, reason, partition });
  }
  return rows;
}

/** A node that cannot run jobs now: down, drained, failed, or not responding (`*`). */
export function isUnavailable(state: string): boolean {
  return state.endsWith('*') || /^(down|drain|drained|draining|fail|failing|future|maint|unknown|inval)/.test(state);
}

async function sinfoNodes(env?: NodeJS.ProcessEnv, partition?: string): Promise<NodeRow[] | undefined> {
  const args = ['-h', '-N', '-o', '%N|%T|%E|%R', ...(partition ? ['-p', partition] : [])];
  const r = await runSlurmTool('sinfo', args, { ...(env ? { env } : {}), timeoutMs: 30_000 }).catch(() => undefined);
  return r && r.code === 0 ? parseSinfoNodes(r.stdout) : undefined;
}

/** Pending reasons that mean "the nodes this job needs are not available". */
export function waitsOnNodes(reason: string): boolean {
  return /^ReqNodeNotAvail|Nodes required for job are DOWN|^NodeDown/i.test(reason.trim());
}

/** `ReqNodeNotAvail, UnavailableNodes:h3,h[5-6]` => `h3,h[5-6]`; undefined when not named. */
export function namedUnavailableNodes(reason: string): string | undefined {
  return /UnavailableNodes:(\S+)/.exec(reason)?.[1];
}

/**
 * For a job pending with a node reason (see `waitsOnNodes`): the error to stop waiting with when
 * the cause is a host that does not answer (or is down or drained), undefined when no such node
 * is found (the nodes are merely reserved or busy: waiting can help). The job is left queued.
 */
export async function unavailableNodesError(job: { id: string; label: string }, reason: string, env?: NodeJS.ProcessEnv): Promise<RetinaError | undefined> {
  const all = await sinfoNodes(env);
  if (!all) return undefined;
  const named = namedUnavailableNodes(reason);
  const bad = all.filter((n) => isUnavailable(n.state) && (named === undefined || nodeInList(n.node, named)));
  if (bad.length === 0) return undefined;
  const seen = new Set<string>();
  const list = bad.filter((n) => !seen.has(n.node) && seen.add(n.node))
    .map((n) => {
      const why = n.reason && n.reason !== 'none' ? n.reason : n.state.endsWith('*') ? 'not responding' : '';
      return `${n.node} (${n.state}${why ? `: ${why}` : ''})`;
    }).join(', ');
  const base = job.id.split('_')[0];
  return new RetinaError('EXTERNAL', `${job.label} [${job.id}] cannot start: ${reason}. Unavailable: ${list}.`, {
    hint: `A node marked * does not answer Slurm. The job stays queued and starts if the nodes return; `
      + `otherwise cancel it (scancel ${base}) and resubmit with fewer --nodes or without the node list. Ask your admins about the nodes (sinfo -R).`,
  });
}

/** Whether `node` is in a Slurm host list such as `h3,h[5-6],gpu[01-03]`. */
export function nodeInList(node: string, list: string): boolean {
  for (const part of list.split(/,(?![^[]*\])/)) {
    const m = /^([^[]*)\[([^\]]+)\](.*)$/.exec(part);
    if (!m) {
      if (part === node) return true;
      continue;
    }
    const [, prefix = '', ranges = '', suffix = ''] = m;
    for (const r of ranges.split(',')) {
      const [lo = '', hi = lo] = r.split('-');
      const width = lo.length;
      for (let i = Number(lo); i <= Number(hi); i++) {
        if (`${prefix}${String(i).padStart(width, '0')}${suffix}` === node) return true;
      }
    }
  }
  return false;
}

/**
 * A clearer message for sbatch refusals a user can fix: an unknown partition (with the ones that
 * exist), a node or CPU request no node of the partition can satisfy (with what the nodes have).
 * Undefined for anything else. (`--nodes` beyond a partition is not refused by sbatch: it pends
 * with PartitionNodeLimit; `retina slurm train` checks it before submitting, cluster-size.ts.)
 */
export async function explainRefusal(stderr: string, env?: NodeJS.ProcessEnv): Promise<{ message: string; hint: string } | undefined> {
  const unknownPartition = /invalid partition specified: (\S+)/i.exec(stderr);
  const noNode = /Requested node configuration is not available|Node count specification invalid|CPU count per node can not be satisfied|More processors requested than permitted/i.test(stderr);
  if (!unknownPartition && !/Invalid partition name specified/i.test(stderr) && !noNode) return undefined;
  const r = await runSlurmTool('sinfo', ['-h', '-o', '%P|%c|%m|%l'], { ...(env ? { env } : {}), timeoutMs: 30_000 }).catch(() => undefined);
  const parts = r && r.code === 0 ? parseSinfo(r.stdout) : [];
  if (!noNode) {
    const names = parts.map((p) => `${p.partition}${p.isDefault ? '*' : ''}`).join(', ');
    return {
      message: `Slurm has no partition ${unknownPartition?.[1] ?? '(the one requested)'}${names ? `; partitions here: ${names} (* = default)` : ''}. Nothing was submitted.`,
      hint: 'Pass --partition with one of them, or leave it out for the default partition.',
    };
  }
  const have = parts.map((p) => `${p.partition}: nodes of up to ${p.cpus} CPUs and ${p.memoryMb} MB`).join('; ');
  return {
    message: `No node can satisfy the request (${stderr.trim().split('\n').pop()?.replace(/^sbatch: error: /, '')})${have ? `; the cluster has ${have}` : ''}. Nothing was submitted.`,
    hint: 'Lower --cpus-per-task, --mem or --nodes to what one node (or the partition) has.',
  };
}
