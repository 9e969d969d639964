import { execFileSync } from 'node:child_process';
import { requirement } from '../../helpers/requirements.js';

/**
 * Whether to run the real-Slurm tests: when Slurm's client tools are on PATH and the controller
 * answers. Skipped with the reason printed otherwise, except under CI (`.ci/run` starts a real
 * one-host Slurm with slurm-local.sh), where a broken install fails instead of skipping silently.
 */
const slurm = requirement('a real Slurm', (() => {
  try {
    execFileSync('sh', ['-c', 'command -v sbatch && command -v squeue && command -v scancel'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  try {
    execFileSync('squeue', ['-h', '-o', '%i'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
})(), 'sbatch/squeue not on PATH or no controller answering; start one with ../shared/tools/slurm-local.sh up');

export const HAS_SBATCH = slurm.available;

/** Suffix for describe() titles, so a skipped real-cluster suite says why in the report. */
export const SKIP_REASON = slurm.titleSuffix;

/** Small requests so several test tasks run at once on a 2-CPU node. */
export const TINY = { cpusPerTask: 1, mem: '300M', time: '00:10:00' } as const;
