import { execFileSync } from 'node:child_process';

/**
 * Whether to run the real-Slurm tests: when Slurm's client tools are on PATH, and always under CI
 * (`.ci/run` starts a real one-host Slurm with slurm-local.sh), so that a broken install fails
 * there instead of skipping silently.
 */
export const HAS_SBATCH = process.env['CI'] === 'true' || (() => {
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
