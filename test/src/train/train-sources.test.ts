import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { createLogger } from '../../../src/core/log.js';
import { join } from 'node:path';
import { train, type TrainOptions } from '../../../src/train/train.js';
import { evaluate } from '../../../src/train/evaluate.js';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';
import { parseJson, runCli, tempDir } from '../../helpers/cli.js';

const TRANSFORM = { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' } as const;

describe('training from a dataset and from images', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  let raw: string;
  let base: TrainOptions;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-sources-'));
    fx = await makeFixtures(join(dir, 'fx'), 40, 5, { width: 64, height: 48 });
    raw = join(dir, 'raw');
    await writeImageDataset(fx, raw, { transform: TRANSFORM, valFraction: 0.25 });
    base = { source: 'raw', data: raw, model: 'small-cnn', epochs: 2, batchSize: 8, lr: 1e-2, seed: 2, backend: 'wasm', cacheDir: join(dir, 'cache'), threads: 2 };
  }, 300_000);
  afterAll(() => cleanup?.());

  it('trains the head on cached features exactly as on per-epoch forward passes, and reuses the cache', async () => {
    const cached = await train({ ...base, out: join(dir, 'cached') });
    expect(cached.featureCache).toMatchObject({ hit: false, records: 40, dim: 64, threads: 2 });
    const again = await train({ ...base, out: join(dir, 'cached2') });
    expect(again.featureCache?.hit).toBe(true);
    expect(again.final).toEqual(cached.final);
    const tensorsBefore = tf.memory().numTensors;
    const full = await train({ ...base, cacheFeatures: false, out: join(dir, 'full') });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // nothing leaks across in-process runs
    expect(full.featureCache).toBeNull();
    for (let e = 0; e < 2; e++) {
      expect(full.epochs[e]!.trainLoss).toBeCloseTo(cached.epochs[e]!.trainLoss, 4);
      expect(full.epochs[e]!.valLoss).toBeCloseTo(cached.epochs[e]!.valLoss, 4);
    }
  }, 300_000);

  it('images decoded every epoch give the same split and the same training as the serialized dataset', async () => {
    const opts = { ...base, cacheFeatures: false };
    const fromRaw = await train({ ...opts, out: join(dir, 'r') });
    const fromImages = await train({ ...opts, source: 'images', data: undefined, images: fx.images, labels: fx.labels, imageSize: 32, valFraction: 0.25, out: join(dir, 'i') });
    expect(fromImages.valImages).toBe(fromRaw.valImages);
    expect(fromImages.trainImages).toBe(fromRaw.trainImages);
    expect(fromImages.epochs[1]!.trainLoss).toBeCloseTo(fromRaw.epochs[1]!.trainLoss, 5);
    expect(fromImages.final.confusion).toEqual(fromRaw.final.confusion);
    // Every format feeds the same tensors: lmdb trains exactly like raw.
    const lmdb = join(dir, 'lmdb');
    await writeImageDataset(fx, lmdb, { format: 'lmdb', transform: TRANSFORM, valFraction: 0.25 });
    const fromLmdb = await train({ ...opts, source: 'lmdb', data: lmdb, out: join(dir, 'l') });
    expect(fromLmdb.epochs.map((e) => e.trainLoss)).toEqual(fromRaw.epochs.map((e) => e.trainLoss));
    await expect(train({ ...opts, source: 'lmdb', data: raw, out: join(dir, 'l2') })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/format "raw", not "lmdb"/) });
  }, 300_000);

  it('fine-tunes on wasm (retina\'s Conv2DBackpropFilter) and the model evaluates like training said', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const r = await train({ ...base, fineTune: true, epochs: 1, out: join(dir, 'ft') });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(r.fineTune).toBe(true);
    expect(Number.isFinite(r.epochs[0]!.trainLoss)).toBe(true);
    const ev = await evaluate({ model: join(dir, 'ft'), data: raw, backend: 'wasm' });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(ev.kappa).toBeCloseTo(r.final.valKappa, 6);
    expect(ev.loss).toBeCloseTo(r.final.valLoss, 4);
  }, 300_000);

  it('stops at the next batch when aborted (SIGINT), keeping finished epochs and writing no model', async () => {
    const controller = new AbortController();
    const logger = createLogger('info', (line) => { if (line.startsWith('epoch 1/')) controller.abort('SIGINT'); });
    const out = join(dir, 'aborted');
    await expect(train({ ...base, cacheFeatures: false, epochs: 3, out, logger, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/SIGINT.*epoch 2/) });
    expect((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(existsSync(join(out, 'model'))).toBe(false);
  }, 120_000);

  it('rejects data the model cannot take, with clear errors', async () => {
    await expect(train({ ...base, model: 'inception-v3', out: join(dir, 'e1') })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/299x299x3.*32x32x3/) });
    await expect(train({ ...base, source: 'images', images: fx.images, labels: fx.labels, valFraction: 0, out: join(dir, 'e2') }))
      .rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/val split .* is empty/) });
    const badLabels = join(dir, 'bad.csv');
    await writeFile(badLabels, 'image,level\n10_left,7\n');
    await expect(train({ ...base, source: 'images', images: fx.images, labels: badLabels, out: join(dir, 'e3') }))
      .rejects.toMatchObject({ code: 'BAD_INPUT', location: { line: 2 } });
    await expect(train({ ...base, source: 'nope', out: join(dir, 'e4') })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(train({ ...base, fineTune: true, cacheFeatures: true, out: join(dir, 'e5') })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(train({ ...base, data: join(dir, 'missing'), out: join(dir, 'e6') })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(evaluate({ model: join(dir, 'no-run'), data: raw })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 120_000);

  it('retina train --json prints the documented contract on stdout, nothing else', async () => {
    const r = await runCli(['train', '--source', 'raw', '--data', raw, '--model', 'small-cnn', '--epochs', '2', '--batch-size', '8',
      '--backend', 'wasm', '--out', join(dir, 'cli'), '--cache-dir', join(dir, 'cache'), '--json']);
    expect(r.code).toBe(0);
    const j = parseJson<{ epochs: Record<string, unknown>[]; final: Record<string, unknown>; imagesPerSecond: number }>(r);
    expect(j.epochs).toHaveLength(2);
    for (const key of ['epoch', 'trainLoss', 'valLoss', 'valAccuracy', 'valKappa', 'seconds', 'dataWaitSeconds', 'computeSeconds']) {
      expect(typeof j.epochs[0]![key]).toBe('number');
    }
    expect(typeof j.final.valAccuracy).toBe('number');
    expect(typeof j.final.valKappa).toBe('number');
    expect(j.imagesPerSecond).toBeGreaterThan(0);

    const p = await runCli(['predict', '--model', join(dir, 'cli'), join(fx.images, '10_left.jpeg'), '--json']);
    expect(p.code).toBe(0);
    expect(parseJson<{ predictions: unknown[] }>(p).predictions).toHaveLength(1);

    const bad = await runCli(['evaluate', '--model', join(dir, 'nowhere'), '--data', raw, '--json']);
    expect(bad.code).toBe(4);
    expect(parseJson<{ error: { code: string } }>(bad).error.code).toBe('NOT_FOUND');
  }, 300_000);
});
