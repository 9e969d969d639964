import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xxh64File } from '../../../src/core/checksum.js';
import { createLogger } from '../../../src/core/log.js';
import { describeParams, train, type TrainOptions } from '../../../src/train/train.js';
import { buildBackbone, buildHead } from '../../../src/train/models/model-registry.js';
import { parseJson, ROOT, runCli, tempDir } from '../../helpers/cli.js';
import { PYTHON, requirement } from '../../helpers/requirements.js';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';

const h5py = requirement('python3-h5py', spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import h5py and numpy (apt-get install -y python3-h5py)`);

const WARNING = 'frozen backbone with random weights: features carry no image knowledge; pass --weights';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', (l) => lines.push(l)) };
}

describe('which weights the backbone has, said where the user looks', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  let base: TrainOptions;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-bbw-'));
    fx = await makeFixtures(join(dir, 'fx'), 12, 5, { width: 64, height: 48 });
    await writeImageDataset(fx, join(dir, 'raw'), { transform: { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' }, valFraction: 0.25 });
    base = { source: 'raw', data: join(dir, 'raw'), model: 'small-cnn', epochs: 1, batchSize: 4, seed: 2, backend: 'wasm', cacheDir: join(dir, 'cache'), threads: 1 };
  }, 300_000);
  afterAll(() => cleanup?.());

  it('a frozen backbone with random weights warns at start and says "random" in the result and summary.json', async () => {
    const { lines, logger } = capture();
    const r = await train({ ...base, out: join(dir, 'frozen'), logger });
    expect(lines.findIndex((l) => l.includes(WARNING))).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((l) => l.includes(WARNING))).toBeLessThan(lines.findIndex((l) => l.startsWith('epoch 1/1')));
    expect(r.backboneWeights).toBe('random');
    expect(JSON.parse(await readFile(join(dir, 'frozen', 'summary.json'), 'utf8')).backboneWeights).toBe('random');
  });

  it('fine-tuning random weights does not warn', async () => {
    const { lines, logger } = capture();
    const r = await train({ ...base, fineTune: true, out: join(dir, 'tuned'), logger });
    expect(lines.some((l) => l.includes('random weights'))).toBe(false);
    expect(r.backboneWeights).toBe('random');
  });

  it('retina train --json carries backboneWeights and the warning goes to stderr', async () => {
    const r = await runCli(['train', '--source', 'raw', '--data', join(dir, 'raw'), '--model', 'small-cnn', '--epochs', '1', '--batch-size', '4',
      '--backend', 'wasm', '--out', join(dir, 'cli'), '--cache-dir', join(dir, 'cache'), '--json']);
    expect(r.code).toBe(0);
    expect(parseJson<{ backboneWeights: unknown }>(r).backboneWeights).toBe('random');
    expect(r.stderr).toContain(WARNING);
  });

  it('the parameter count train prints explains the README\'s (21,778,597 folded vs 21,813,029 as Keras counts)', async () => {
    const backbone = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false });
    const head = buildHead(backbone.featureDim, 1);
    const line = describeParams(backbone.model.countParams() + head.model.countParams(), backbone, head.model.countParams());
    expect(line).toBe('21,778,597 parameters (batch norm folded into the convolutions; 21,813,029 unfolded, as Keras counts them)');
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('21,813,029 with the head');
    expect(readme).toContain('**21,778,597** = 21,813,029 − 34,432');
    backbone.model.dispose();
    head.model.dispose();
  });

  it.skipIf(!h5py.available)('Keras .h5 weights: no warning, backboneWeights names the file and its checksum', async () => {
    const h5 = join(dir, 'k.h5');
    expect(spawnSync(PYTHON, [join(ROOT, 'test/helpers/write_keras_h5.py'), h5]).status).toBe(0);
    const data = join(dir, 'raw299');
    await writeImageDataset(fx, data, { transform: { size: 299, crop: 'auto', normalize: 'none', dtype: 'uint8' }, valFraction: 0.25 });
    const { lines, logger } = capture();
    const r = await train({ ...base, data, model: 'inception-v3', weights: h5, out: join(dir, 'h5run'), logger });
    expect(lines.some((l) => l.includes('random weights'))).toBe(false);
    expect(lines.some((l) => l.includes('21,778,597 parameters (batch norm folded into the convolutions; 21,813,029 unfolded'))).toBe(true);
    const expected = { file: h5, format: 'keras-h5', xxh64: (await xxh64File(h5)).xxh64 };
    expect(r.backboneWeights).toEqual(expected);
    expect(JSON.parse(await readFile(join(dir, 'h5run', 'summary.json'), 'utf8')).backboneWeights).toEqual(expected);
  }, 300_000);
});
