import { runSlurmTool } from './slurm-cli.js';

/** What one partition's nodes offer, from `sinfo` (the largest node where they differ). */
export interface PartitionLimits {
  partition: string;
  isDefault: boolean;
  /** CPUs of the partition's largest node. */
  cpus: number;
  /** Memory of the partition's largest node, MB. */
  memoryMb: number;
  /** The partition's time limit as sinfo prints it (`infinite`, `1-00:00:00`). */
  timeLimit: string;
}

/**
 * Parse `sinfo -h -o '%P|%c|%m|%l'`: one line per partition and node configuration, the default
 * partition marked `debug*`, CPUs and memory possibly with a `+` (`2+`: at least 2 in the group).
 */
export function parseSinfo(stdout: string): PartitionLimits[] {
  const byName = new Map<string, PartitionLimits>();
  for (const line of stdout.split('\n')) {
    const [p = '', c = '', m = '', l = ''] = line.trim().split('|');
    if (!p) continue;
    const isDefault = p.endsWith('*');
    const partition = p.replace(/\*$/, '');
    const cpus = Number.parseInt(c, 10), memoryMb = Number.parseInt(m, 10);
    if (!Number.isFinite(cpus)) continue;
    const prev = byName.get(partition);
    byName.set(partition, {
      partition, isDefault: isDefault || (prev?.isDefault ?? false),
      cpus: Math.max(cpus, prev?.cpus ?? 0), memoryMb: Math.max(Number.isFinite(memoryMb) ? memoryMb : 0, prev?.memoryMb ?? 0), timeLimit: l.trim(),
    });
  }
  return [...byName.values()];
}

/**
 * The limits of `partition` (or the default one) on the cluster the command runs on; undefined
 * when sinfo is missing, fails, or does not know the partition (the caller keeps its defaults).
 */
export async function partitionLimits(partition?: string, env?: NodeJS.ProcessEnv): Promise<PartitionLimits | undefined> {
  const r = await runSlurmTool('sinfo', ['-h', '-o', '%P|%c|%m|%l'], { ...(env ? { env } : {}), timeoutMs: 20_000 }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  const all = parseSinfo(r.stdout);
  return partition === undefined ? all.find((p) => p.isDefault) ?? all[0] : all.find((p) => p.partition === partition);
}
