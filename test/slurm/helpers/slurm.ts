import { execFileSync } from 'node:child_process';

/** Whether Slurm's client tools are on PATH (CI starts a real one-host Slurm with slurm-local.sh). */
export const HAS_SBATCH = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v sbatch && command -v squeue && command -v scancel'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Suffix for describe() titles, so a skipped real-cluster suite says why in the report. */
export const SKIP_REASON = HAS_SBATCH ? '' : ' [SKIPPED: sbatch not on PATH; start Slurm with ../shared/tools/slurm-local.sh up]';

/** Small requests so several test tasks run at once on a 2-CPU node. */
export const TINY = { cpusPerTask: 1, mem: '300M', time: '00:10:00' } as const;
