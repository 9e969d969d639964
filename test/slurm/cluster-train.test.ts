import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

let tmp: { dir: string; cleanup: () => Promise<void> };

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

describe.skipIf(!HAS_SBATCH)(`real Slurm: retina slurm train${SKIP_REASON}`, { timeout: 600_000 }, () => {
  beforeAll(async () => { tmp = await tempDir('retina-slurm-train-'); });
  afterAll(async () => { await tmp?.cleanup(); });

  it('(d) --submit --wait runs a small retina train under Slurm; its run folder appears with metrics', async () => {
    const fx = join(tmp.dir, 'fx');
    const data = join(tmp.dir, 'data');
    ok(await runCli(['fixtures', '--out', fx, '--count', '60', '--seed', '21', '--size', '96x72', '--distribution', 'balanced']));
    ok(await runCli(['preprocess', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', data, '--format', 'raw',
      '--size', '32', '--val-fraction', '0.2', '--threads', '1']));
    ok(await runCli(['index', data]));
    const run = join(tmp.dir, 'run one');
    const r = ok(await runCli(['slurm', 'train', '--source', 'raw', '--data', data, '--model', 'small-cnn', '--epochs', '1', '--batch-size', '8',
      '--out', run, '--cpus-per-task', '1', '--mem', '2G', '--time', '00:15:00', '--submit', '--wait', '--wait-timeout', '480', '--json'], { timeoutMs: 540_000 }));
    const body = parseJson<{ jobId: string; log: string; runDir: string; outcome: { state: string } }>(r);
    expect(body.jobId).toMatch(/^\d+$/);
    expect(body.runDir).toBe(run);
    expect(body.outcome.state).toBe('COMPLETED');
    expect(body.log).toBe(join(data, 'logs', `train-${body.jobId}.out`));
    expect(readFileSync(body.log, 'utf8')).toContain('retina: exit status 0');
    expect(existsSync(join(run, 'summary.json'))).toBe(true);
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(metrics.length).toBeGreaterThanOrEqual(1);
  });
});
