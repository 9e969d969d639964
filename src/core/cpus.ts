import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { badArgument } from './errors.js';

/**
 * How many CPUs this process may use. Order: an explicit request, Slurm's allocation
 * (`SLURM_CPUS_PER_TASK`), the cgroup v2 quota (`cpu.max`), then the scheduler affinity that
 * `os.availableParallelism()` reports. Never the raw `os.cpus()` count: on a shared node that
 * oversubscribes everyone.
 */
export function usableCpus(requested?: number, env: NodeJS.ProcessEnv = process.env): { cpus: number; source: string; warning?: string } {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) throw badArgument('--threads', 'a positive integer', requested);
    // More threads than CPUs only adds memory and switching: --threads 999 on 2 CPUs ran 264 OS
    // threads and 3.5 GB RSS for 20 images. Capped at what this process may use, with a warning.
    const usable = usableCpus(undefined, env);
    if (requested > usable.cpus) {
      return {
        cpus: usable.cpus,
        source: `flag, capped (${usable.source})`,
        warning: `--threads ${requested} is more than the ${usable.cpus} CPUs this process may use (${usable.source}); using ${usable.cpus}`,
      };
    }
    return { cpus: requested, source: 'flag' };
  }
  const slurm = env.SLURM_CPUS_PER_TASK;
  if (slurm !== undefined && /^\d+$/.test(slurm) && Number(slurm) > 0) return { cpus: Number(slurm), source: 'SLURM_CPUS_PER_TASK' };
  const affinity = availableParallelism();
  const quota = cgroupCpuQuota();
  if (quota !== undefined && quota < affinity) return { cpus: quota, source: 'cgroup' };
  return { cpus: affinity, source: 'affinity' };
}

/** CPUs allowed by cgroup v2 `cpu.max` ("max 100000" means unlimited), rounded up, or undefined. */
export function cgroupCpuQuota(path = '/sys/fs/cgroup/cpu.max'): number | undefined {
  try {
    const [quota, period] = readFileSync(path, 'utf8').trim().split(/\s+/);
    if (quota === undefined || quota === 'max' || period === undefined) return undefined;
    const q = Number(quota),
      p = Number(period);
    if (!(q > 0 && p > 0)) return undefined;
    return Math.max(1, Math.ceil(q / p));
  } catch {
    return undefined;
  }
}
