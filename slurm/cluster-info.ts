import type { Logger } from '../src/core/log.js';
import type { SlurmResources } from './resources.js';
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

/** Megabytes of an sbatch memory size (`500M`, `4G`, `1024`). */
export function memMb(mem: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(mem);
  if (!m) return Number.NaN;
  return Number(m[1]) * { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, '': 1 }[m[2]!.toUpperCase() as 'K' | 'M' | 'G' | 'T' | ''];
}

/**
 * Fit the resources left at retina's defaults (4 CPUs, 8G) to the partition's nodes, read from
 * sinfo before rendering: a default the nodes cannot give leaves the job PENDING (PartitionConfig)
 * for ever (4 CPUs on the 2-CPU test node). What the user gave is never changed; without sinfo the
 * defaults stay.
 */
export async function fitDefaults(r: SlurmResources, opts: { env?: NodeJS.ProcessEnv | undefined; logger?: Logger | undefined; limits?: PartitionLimits | undefined } = {}): Promise<SlurmResources> {
  if (!r.defaulted?.length) return r;
  const limits = opts.limits ?? await partitionLimits(r.partition, opts.env);
  if (!limits) return r;
  const out = { ...r };
  if (r.defaulted.includes('cpusPerTask') && limits.cpus > 0 && r.cpusPerTask > limits.cpus) {
    out.cpusPerTask = limits.cpus;
    opts.logger?.info(`--cpus-per-task ${limits.cpus}: the CPUs of partition ${limits.partition}'s nodes (sinfo), below the default ${r.cpusPerTask}`);
  }
  // Slurm's RealMemory defaults to 1 (MB) when a site does not set it: no information then.
  if (r.defaulted.includes('mem') && limits.memoryMb > 1 && memMb(r.mem) > limits.memoryMb) {
    out.mem = `${limits.memoryMb}M`;
    opts.logger?.info(`--mem ${out.mem}: the memory of partition ${limits.partition}'s nodes (sinfo), below the default ${r.mem}`);
  }
  return out;
}
