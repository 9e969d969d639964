/**
 * What the torch-engine Slurm tests share: the interpreter, whether it has torch, the small job
 * resources, and how two runs' results are compared (metrics.jsonl, model.pt through torch).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CliResult } from '../../helpers/cli.js';

export const PYTHON = process.env['RETINA_PYTHON'] || '/usr/bin/python3';

/** torch from Debian's python3-torch; CI installs it (.ci/run), elsewhere the suites say why they skip. */
export const HAS_TORCH = process.env['CI'] === 'true' || (() => {
  try { execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

/** The skip reason when torch is missing, '' when it is there. */
export const TORCH_SKIP = HAS_TORCH ? '' : ` [SKIPPED: ${PYTHON} cannot import torch; apt-get install python3-torch python3-torchvision]`;

/** sbatch resources small enough for the test clusters' 2-CPU nodes. */
export const SLURM = ['--cpus-per-task', '1', '--mem', '2G', '--time', '00:15:00'];

export function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** Largest relative (Frobenius) difference between two runs' model.pt tensors, computed by torch. */
export function maxRelativeDifference(a: string, b: string): number {
  const code = [
    'import sys, torch',
    'a = torch.load(sys.argv[1])["state_dict"]; b = torch.load(sys.argv[2])["state_dict"]',
    'assert a.keys() == b.keys()',
    'print(max(float((a[k] - b[k]).norm() / a[k].norm().clamp_min(1e-30)) for k in a if a[k].dtype.is_floating_point))',
  ].join('\n');
  return Number(execFileSync(PYTHON, ['-c', code, join(a, 'model.pt'), join(b, 'model.pt')], { encoding: 'utf8' }).trim());
}

/** A run's epochs as metrics.jsonl has them so far ([] before the first epoch is written). */
export function metrics(run: string): { epoch: number; trainLoss: number; valLoss: number; worldSize: number }[] {
  if (!existsSync(join(run, 'metrics.jsonl'))) return [];
  return readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as never);
}
