import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { makeFixtures } from '../helpers/train-data.js';

type ErrorJson = { error: { code: string; message: string; hint?: string } };

/** Issue #14 item 6: exit codes and messages a new user met. */
describe('exit codes and messages', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  let data: string, run: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-errs-'));
    fx = await makeFixtures(join(dir, 'fx'), 12, 5, { width: 64, height: 48 });
    data = join(dir, 'raw');
    run = join(dir, 'run');
    const p = await runCli(['preprocess', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--size', '32', '--val-fraction', '0.3', '--out', data]);
    expect(p.code, p.stderr).toBe(0);
    const t = await runCli(['train', '--source', 'raw', '--data', data, '--model', 'small-cnn', '--epochs', '1', '--batch-size', '4', '--backend', 'wasm',
      '--out', run, '--cache-dir', join(dir, 'cache')]);
    expect(t.code, t.stderr).toBe(0);
    await writeFile(join(dir, 'afile'), 'not a dataset');
    await writeFile(join(dir, 'broken.jpeg'), 'not a jpeg');
  }, 300_000);
  afterAll(() => cleanup?.());

  it('evaluate prints its scores and the confusion matrix on stdout', async () => {
    const r = await runCli(['evaluate', '--model', run, '--data', data, '--backend', 'wasm', '--log-level', 'warn']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/loss \d\.\d{4} {2}accuracy \d\.\d{3} {2}kappa -?\d\.\d{3}/);
    expect(r.stdout).toContain('confusion matrix (rows: actual grade, columns: predicted grade)');
    const rows = r.stdout.split('\n').filter((l) => /^[0-4] {5}/.test(l));
    expect(rows).toHaveLength(5);
    const images = Number(/^(\d+) val images/m.exec(r.stdout)?.[1]);
    const total = rows.flatMap((l) => l.trim().split(/\s+/).slice(1).map(Number)).reduce((a, b) => a + b, 0);
    expect(total).toBe(images);
  });

  it('predict: a missing image is NOT_FOUND (4); an undecodable one CORRUPT (5) with a hint predict can follow', async () => {
    let r = await runCli(['predict', '--model', run, join(dir, 'nope.jpeg'), '--json']);
    expect(r.code).toBe(4);
    expect(parseJson<ErrorJson>(r).error).toMatchObject({ code: 'NOT_FOUND', message: `No image file at ${join(dir, 'nope.jpeg')}` });
    r = await runCli(['predict', '--model', run, '--backend', 'wasm', join(dir, 'broken.jpeg'), '--json']);
    expect(r.code).toBe(5);
    const err = parseJson<ErrorJson>(r).error;
    expect(err.code).toBe('CORRUPT');
    expect(err.hint).not.toContain('--skip-invalid');
    expect(err.hint).toContain('leave it out');
  });

  it('EXISTS (7) names the parameters that differ', async () => {
    const r = await runCli(['preprocess', '--format', 'raw', '--images', fx.images, '--labels', fx.labels, '--size', '24', '--val-fraction', '0.3', '--out', data, '--json']);
    expect(r.code).toBe(7);
    const err = parseJson<ErrorJson>(r).error;
    expect(err.code).toBe('EXISTS');
    expect(err.message).toContain('size: written with 32, this run 24');
    expect(err.message).toContain('shape: written with [32,32,3], this run [24,24,3]');
    expect(err.message).not.toContain('valFraction');
  });

  it('verify numbers shards as every other command does (shard 0/1)', async () => {
    const r = await runCli(['verify', data]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('shard 0/1: 12 records, ok');
  });

  it('--lr NaN is BAD_ARGUMENT (exit 2) naming the flag', async () => {
    for (const lr of ['NaN', 'Infinity', 'x']) {
      const r = await runCli(['train', '--source', 'raw', '--data', data, '--lr', lr, '--json']);
      expect(r.code, lr).toBe(2);
      expect(parseJson<ErrorJson>(r).error).toMatchObject({ code: 'BAD_ARGUMENT', message: `Expected a number for --lr but received "${lr}"` });
    }
  });

  it('a dataset path that is a file is a clear BAD_ARGUMENT (exit 2), not a raw ENOTDIR', async () => {
    for (const args of [['verify', join(dir, 'afile')], ['inspect', join(dir, 'afile')], ['index', join(dir, 'afile')],
      ['train', '--source', 'raw', '--data', join(dir, 'afile'), '--model', 'small-cnn', '--out', join(dir, 'r2')],
      ['inspect', join(data, 'manifest.json')]]) {
      const r = await runCli([...args, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      const err = parseJson<ErrorJson>(r).error;
      expect(err.message).toMatch(/ is a file, not a dataset folder$/);
    }
    const r = await runCli(['inspect', join(data, 'manifest.json'), '--json']);
    expect(parseJson<ErrorJson>(r).error.hint).toContain(data);
  });
});
