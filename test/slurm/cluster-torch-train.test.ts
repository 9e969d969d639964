import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { HAS_TORCH, SLURM, TORCH_SKIP, maxRelativeDifference, metrics, ok } from './helpers/torch-runs.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

const SKIP = SKIP_REASON || TORCH_SKIP;

let tmp: { dir: string; cleanup: () => Promise<void> };
let data: string;

describe.skipIf(!HAS_SBATCH || !HAS_TORCH)(`real Slurm: retina slurm train --engine torch (2 gloo ranks under srun)${SKIP}`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    tmp = await tempDir('retina-slurm-torch-');
    const fx = join(tmp.dir, 'fx');
    data = join(tmp.dir, 'data');
    ok(await runCli(['fixtures', '--out', fx, '--count', '60', '--seed', '21', '--size', '96x72', '--distribution', 'balanced']));
    ok(await runCli(['preprocess', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', data, '--format', 'raw',
      '--size', '32', '--val-fraction', '0.2', '--threads', '1']));
    ok(await runCli(['index', data]));
  });
  afterAll(async () => { await tmp?.cleanup(); });

  for (const fineTune of [false, true]) {
    it(`2 ranks x 16 under srun end with the weights and losses of 1 rank x 32${fineTune ? ' (fine-tuned)' : ' (frozen backbone)'}`, async () => {
      const common = ['--source', 'raw', '--data', data, '--model', 'small-cnn', '--epochs', '2', '--batch-size', '16', '--lr', '3e-3', '--seed', '5',
        ...(fineTune ? ['--fine-tune'] : [])];
      const one = join(tmp.dir, `one-${fineTune}`);
      const local = parseJson<Record<string, unknown>>(ok(await runCli(['train', '--engine', 'torch', ...common, '--micro-batch', '8', '--threads', '1', '--out', one, '--json'])));
      expect(local).toMatchObject({ engine: 'torch', worldSize: 1, device: 'cpu', model: 'small-cnn', source: 'raw', fineTune, out: one });
      for (const k of ['epochs', 'final', 'imagesPerSecond', 'backend', 'params', 'trainImages', 'valImages', 'timing']) expect(local).toHaveProperty(k);
      const two = join(tmp.dir, `two-${fineTune}`);
      const r = ok(await runCli(['slurm', 'train', '--engine', 'torch', ...common, '--ntasks-per-node', '2', '--out', two, ...SLURM,
        '--submit', '--wait', '--wait-timeout', '480', '--json'], { timeoutMs: 540_000 }));
      const body = parseJson<{ jobId: string; log: string; worldSize: number; outcome: { state: string }; train: { worldSize: number; engine: string; distBackend: string } }>(r);
      expect(body.outcome.state).toBe('COMPLETED');
      expect(body.worldSize).toBe(2);
      expect(body.train).toMatchObject({ worldSize: 2, engine: 'torch', distBackend: 'gloo' });
      const log = readFileSync(body.log, 'utf8');
      expect(log).toContain('torch.distributed: gloo, 2 ranks');
      expect(log).toContain('retina: exit status 0');
      expect(maxRelativeDifference(one, two)).toBeLessThanOrEqual(1e-5);
      const [m1, m2] = [metrics(one), metrics(two)];
      expect(m2.map((m) => m.worldSize)).toEqual([2, 2]);
      m1.forEach((m, i) => {
        expect(Math.abs(m.trainLoss - m2[i]!.trainLoss) / m.trainLoss).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(m.valLoss - m2[i]!.valLoss) / m.valLoss).toBeLessThanOrEqual(1e-5);
      });
    });
  }

  it('a 2-rank job requeued mid-training resumes from its last epoch checkpoint and ends where an unbroken run does', async () => {
    const common = ['--source', 'raw', '--data', data, '--model', 'small-cnn', '--fine-tune', '--epochs', '12', '--batch-size', '4', '--seed', '9'];
    const whole = join(tmp.dir, 'whole');
    ok(await runCli(['train', '--engine', 'torch', ...common, '--micro-batch', '2', '--threads', '1', '--out', whole, '--log-level', 'warn']));
    const run = join(tmp.dir, 'requeued');
    const submitted = parseJson<{ jobId: string; log: string }>(ok(await runCli(['slurm', 'train', '--engine', 'torch', ...common, '--ntasks-per-node', '2', '--out', run, ...SLURM, '--submit', '--json'])));
    const deadline = Date.now() + 240_000;
    while (!existsSync(join(run, 'metrics.jsonl')) || metrics(run).length < 1) {
      expect(Date.now(), 'no epoch finished in time').toBeLessThan(deadline);
      await sleep(200);
    }
    ok(await runSlurmTool('scontrol', ['requeue', submitted.jobId]) as CliResult);
    const epochsBefore = metrics(run).length;
    expect(epochsBefore).toBeLessThan(12);
    // Slurm holds a requeued job about two minutes (BeginTime) before it starts again.
    for (;;) {
      const q = await runSlurmTool('squeue', ['-h', '-t', 'all', '-j', submitted.jobId, '-o', '%T']);
      const state = q.stdout.trim();
      if (state === 'COMPLETED') break;
      expect(['PENDING', 'RUNNING', 'REQUEUED', 'COMPLETING', 'REQUEUE_HOLD', 'CONFIGURING'], `job ${submitted.jobId}: ${state}\n${existsSync(submitted.log) ? readFileSync(submitted.log, 'utf8') : ''}`).toContain(state);
      expect(Date.now()).toBeLessThan(deadline + 300_000);
      await sleep(2000);
    }
    const log = readFileSync(submitted.log, 'utf8');
    expect(log).toContain('(restart 1)');
    expect(log).toMatch(/train: resuming .* after epoch \d+/);
    expect(metrics(run).map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(maxRelativeDifference(whole, run)).toBeLessThanOrEqual(1e-5);
  });

  it('--nodes beyond the partition fails at once with exit 2, naming --nodes and the partition size (Slurm itself would queue it for ever)', async () => {
    const r = await runCli(['slurm', 'train', '--engine', 'torch', '--source', 'raw', '--data', data, '--model', 'small-cnn', '--nodes', '64',
      '--out', join(tmp.dir, 'never'), ...SLURM, '--submit', '--wait'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--nodes 64: partition \S+ has \d+ nodes? \(sinfo\)/);
    expect(existsSync(join(tmp.dir, 'never'))).toBe(false);
  });
});
