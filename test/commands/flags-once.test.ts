import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** The drifts #17 item 4 names: a command and its Slurm twin now check a flag the same way. */
describe('flags declared once: retina X and retina slurm X agree', () => {
  it('--size is 8-4096 in slurm preprocess as in preprocess', async () => {
    for (const cmd of [['preprocess'], ['slurm', 'preprocess', '--tasks', '2']]) {
      const r = await runCli([...cmd, '--format', 'raw', '--size', '4', '--json']);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stdout).toMatch(/--size/);
    }
  });

  it('--model is the same fixed list in slurm train as in train', async () => {
    for (const cmd of [['train'], ['slurm', 'train']]) {
      const r = await runCli([...cmd, '--source', 'raw', '--model', 'resnet', '--json']);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stdout).toMatch(/inception-v3, small-cnn/);
    }
  });

  it('--val-fraction is one parser: [0, 1) everywhere', async () => {
    for (const argv of [
      ['preprocess', '--format', 'raw'], ['slurm', 'preprocess', '--tasks', '2', '--format', 'raw'],
      ['train', '--source', 'raw'], ['slurm', 'train', '--source', 'raw'], ['bench', 'formats'],
    ]) {
      const r = await runCli([...argv, '--val-fraction', '1.5', '--json']);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout, argv.join(' ')).toContain('Expected a number in [0, 1) for --val-fraction');
    }
  });

  it('slurm train passes every train flag it was given on to retina train, in the script', async () => {
    const r = await runCli(['slurm', 'train', '--source', 'images', '--images', '/i', '--labels', '/l.csv', '--model', 'small-cnn',
      '--epochs', '2', '--lr', '3e-3', '--image-size', '32', '--val-fraction', '0.2', '--no-cache-features', '--normalize', 'ben-graham']);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => / train --source /.test(l)) ?? '';
    for (const part of ['--source images', '--images /i', '--labels /l.csv', '--model small-cnn', '--epochs 2', '--lr 0.003',
      '--no-cache-features', '--image-size 32', '--normalize ben-graham', '--val-fraction 0.2']) expect(line).toContain(part);
  });
});
