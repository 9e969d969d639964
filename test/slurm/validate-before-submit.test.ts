import { appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { makeFixtures } from '../helpers/train-data.js';

type ErrorJson = { error: { code: string; message: string; hint?: string } };

/**
 * `retina slurm preprocess --submit` runs preprocess's own checks before sbatch: jobs bound to
 * fail are reported, not queued. PATH has no sbatch here, so a check that let one through would
 * fail with EXTERNAL (9) instead of the expected code.
 */
describe('slurm preprocess validates like preprocess before submitting', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  const noSlurm = { PATH: '/nonexistent' };
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-slurm-check-'));
    fx = await makeFixtures(join(dir, 'fx'), 4, 5, { width: 64, height: 48 });
  });
  afterAll(() => cleanup?.());

  it('rows without an image: the count and lines, no submission, unless --skip-invalid', async () => {
    await appendFile(fx.labels, '900_left,0\n900_right,1\n');
    const out = join(dir, 'ds');
    const r = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--out', out, '--submit', '--json'], { env: noSlurm });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const err = parseJson<ErrorJson>(r).error;
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('2 missing image files');
    expect(err.message).toContain('Nothing was submitted: every task would fail on this.');
    expect(err.hint).toContain('--skip-invalid');
    expect(existsSync(join(out, 'slurm-job.json'))).toBe(false);
    // With --skip-invalid the checks pass and submission is attempted (here: no sbatch, exit 9).
    const skip = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--out', out, '--skip-invalid', '--submit', '--json'], { env: noSlurm });
    expect(skip.code).toBe(9);
    expect(parseJson<ErrorJson>(skip).error.message).toContain('sbatch not found');
  });

  it('a shard count other than the existing dataset\'s: reported, nothing submitted', async () => {
    const out = join(dir, 'one');
    const p = await runCli(['preprocess', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--out', out, '--size', '16', '--skip-invalid']);
    expect(p.code, p.stderr).toBe(0);
    const r = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--out', out, '--size', '16', '--skip-invalid', '--submit', '--json'], { env: noSlurm });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const err = parseJson<ErrorJson>(r).error;
    expect(err.message).toContain(`${out} holds shards of 1, not of 2`);
    expect(err.message).toContain('Nothing was submitted');
    expect(err.hint).toContain('--tasks 1');
  });
});
