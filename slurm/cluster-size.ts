import { RetinaError } from '../src/core/errors.js';
import { runSlurmTool } from './slurm-cli.js';

/** Nodes and CPUs per node of one partition, as sinfo reports them. */
export interface PartitionSize {
  partition: string;
  nodes: number;
  /** The fewest CPUs any of its nodes has. */
  cpusPerNode: number;
}

/**
 * Parse `sinfo -h -o '%P|%D|%c'` (one line per partition and node state; the default partition's
 * name ends in `*`) into the size of `partition`, or of the default one when undefined.
 */
export function parsePartitionSize(stdout: string, partition?: string): PartitionSize | undefined {
  let found: PartitionSize | undefined;
  for (const line of stdout.split('\n')) {
    const [p, d, c] = line.trim().split('|');
    if (p === undefined || d === undefined || c === undefined || p === '') continue;
    const isDefault = p.endsWith('*');
    const name = isDefault ? p.slice(0, -1) : p;
    if (partition === undefined ? !isDefault : name !== partition) continue;
    const nodes = Number(d), cpus = Number.parseInt(c, 10); // %c is `2` or `2+` when nodes differ
    if (!Number.isFinite(nodes) || !Number.isFinite(cpus)) continue;
    found = found === undefined ? { partition: name, nodes, cpusPerNode: cpus } : { partition: name, nodes: found.nodes + nodes, cpusPerNode: Math.min(found.cpusPerNode, cpus) };
  }
  return found;
}

/**
 * Refuse a job the cluster can never run. Slurm accepts `sbatch --nodes=5` on a 1-node partition
 * and leaves it PENDING (PartitionConfig) forever (measured on the one-host test Slurm, 22.05), so
 * `--submit --wait` would wait for ever: check the partition's size with sinfo first.
 */
export async function checkFitsCluster(req: { nodes: number; tasksPerNode: number; cpusPerTask: number; partition?: string | undefined }, env?: NodeJS.ProcessEnv): Promise<PartitionSize> {
  const r = await runSlurmTool('sinfo', ['-h', '-o', '%P|%D|%c'], env === undefined ? { direct: 'retina train --engine torch' } : { env, direct: 'retina train --engine torch' });
  if (r.code !== 0) throw new RetinaError('EXTERNAL', `sinfo failed (exit ${r.code}): ${r.stderr.trim()}`, { hint: 'Is the Slurm controller up? Try sinfo yourself.' });
  const size = parsePartitionSize(r.stdout, req.partition);
  if (size === undefined) {
    throw new RetinaError('BAD_ARGUMENT', req.partition === undefined ? 'sinfo lists no default partition' : `sinfo lists no partition ${req.partition}`, {
      hint: 'Name a partition sinfo lists with --partition.',
    });
  }
  if (req.nodes > size.nodes) {
    throw new RetinaError('BAD_ARGUMENT', `--nodes ${req.nodes}: partition ${size.partition} has ${size.nodes} node${size.nodes === 1 ? '' : 's'} (sinfo)`, {
      hint: `Ask for at most ${size.nodes} node${size.nodes === 1 ? '' : 's'}, or pick a bigger partition with --partition; Slurm would leave the job pending for ever.`,
    });
  }
  if (req.tasksPerNode * req.cpusPerTask > size.cpusPerNode) {
    throw new RetinaError('BAD_ARGUMENT', `--ntasks-per-node ${req.tasksPerNode} x --cpus-per-task ${req.cpusPerTask} = ${req.tasksPerNode * req.cpusPerTask} CPUs, but the nodes of partition ${size.partition} have ${size.cpusPerNode} (sinfo)`, {
      hint: 'Fewer tasks per node or fewer CPUs per task.',
    });
  }
  return size;
}
