import { readFileSync } from 'node:fs';
import { hostname, loadavg, release, totalmem } from 'node:os';
import { usableCpus } from '../core/cpus.js';
import type { MachineInfo } from './bench-types.js';

/**
 * The CPU model as /proc/cpuinfo names it ("model name", or "Hardware"/"cpu model" on some ARM and
 * MIPS kernels). `unknown` where the file is absent (macOS) or says nothing.
 */
export function cpuModelFrom(cpuinfo: string): string {
  for (const key of ['model name', 'Hardware', 'cpu model', 'Processor']) {
    const m = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo);
    if (m?.[1]?.trim()) return m[1].trim().replace(/\s+/g, ' ');
  }
  return 'unknown';
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Describe this machine. `cpus` is what retina may use (`usableCpus`: Slurm, cgroup, affinity),
 * not the host's core count, because that is what the figures were measured with.
 */
export function machineInfo(backend = 'unknown'): MachineInfo {
  const cpus = usableCpus();
  return {
    cpuModel: cpuModelFrom(readCpuinfo()),
    cpus: cpus.cpus,
    cpusSource: cpus.source,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    backend,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    hostname: hostname(),
  };
}

/** One line for people: "AMD EPYC, 2 CPUs (affinity), 23.4 GiB, Node v20.20.2, tfjs wasm, load 3.1". */
export function describeMachine(m: MachineInfo): string {
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1);
  return `${m.cpuModel}, ${m.cpus} CPU${m.cpus === 1 ? '' : 's'} (${m.cpusSource}), ${gib} GiB, Node ${m.node}, ${m.platform}, tfjs backend ${m.backend}, load ${m.loadAverage} at start`;
}
