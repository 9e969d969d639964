import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transformImage } from '../../../src/transform.js';
import { toNetworkInput } from '../../../src/bytes-to-float.js';
import { train, type TrainOptions } from '../../../src/train/train.js';
import { fileModelHandler } from '../../../src/train/model-io.js';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { createSession, runSession } from '../../../src/backends/onnxruntime/ort-runtime.js';
import onnxProto from 'onnx-proto';
import { makeFixtures, writeImageDataset } from '../../helpers/train-data.js';
import { parseJson, runCli, tempDir } from '../../helpers/cli.js';

const TRANSFORM = { size: 32, crop: 'auto', normalize: 'none', dtype: 'uint8' } as const;

async function headWeights(run: string): Promise<Float32Array> {
  const bytes = await readFile(join(run, 'model', 'weights.bin'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i]! - b[i]!)); den = Math.max(den, Math.abs(b[i]!)); }
  return num / den;
}

describe('training with the frozen backbone in ONNX Runtime', () => {
  let dir: string, cleanup: () => Promise<void>;
  let fx: { images: string; labels: string };
  let base: TrainOptions;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-onnx-train-'));
    fx = await makeFixtures(join(dir, 'fx'), 24, 5, { width: 64, height: 48 });
    await writeImageDataset(fx, join(dir, 'raw'), { transform: TRANSFORM, valFraction: 0.25 });
    base = { source: 'raw', data: join(dir, 'raw'), model: 'small-cnn', epochs: 3, batchSize: 8, lr: 1e-2, seed: 4, threads: 2 };
  }, 300_000);
  afterAll(() => cleanup?.());

  it('the same seed trains the same head whichever backend extracted the features (cache on)', async () => {
    const tfjs = await train({ ...base, backend: 'wasm', out: join(dir, 'wasm'), cacheDir: join(dir, 'cache-wasm') });
    const ort = await train({ ...base, backend: 'onnxruntime', out: join(dir, 'ort'), cacheDir: join(dir, 'cache-ort') });
    expect(ort.backend).toBe('onnxruntime');
    expect(await readdir(join(dir, 'cache-ort', 'onnx'))).toHaveLength(1);
    expect(maxRelDiff(await headWeights(join(dir, 'ort')), await headWeights(join(dir, 'wasm')))).toBeLessThan(1e-4);
    for (let e = 0; e < 3; e++) expect(ort.epochs[e]!.trainLoss).toBeCloseTo(tfjs.epochs[e]!.trainLoss, 4);
  }, 300_000);

  it('without the cache, pooled (ONNX Runtime in each worker) and in-process (one session) epochs train the same head', async () => {
    const ref = await train({ ...base, backend: 'wasm', cacheFeatures: false, out: join(dir, 'nc-wasm'), cacheDir: join(dir, 'cache-nc') });
    const pooled = await train({ ...base, backend: 'onnxruntime', cacheFeatures: false, poolForward: true, out: join(dir, 'nc-pool'), cacheDir: join(dir, 'cache-nc') });
    const inProcess = await train({ ...base, backend: 'onnxruntime', cacheFeatures: false, poolForward: false, out: join(dir, 'nc-one'), cacheDir: join(dir, 'cache-nc') });
    expect(pooled.epochs.map((e) => e.forwardWorkers)).toEqual([2, 2, 2]);
    expect(inProcess.epochs.map((e) => e.forwardWorkers)).toEqual([0, 0, 0]);
    const w = await headWeights(join(dir, 'nc-wasm'));
    expect(maxRelDiff(await headWeights(join(dir, 'nc-pool')), w)).toBeLessThan(1e-4);
    expect(maxRelDiff(await headWeights(join(dir, 'nc-one')), w)).toBeLessThan(1e-4);
    expect(inProcess.final.confusion).toEqual(ref.final.confusion);
  }, 300_000);

  it('a --weights model with a layer ONNX cannot take: explicit onnxruntime fails naming it, auto falls back to tfjs', async () => {
    await selectBackend('wasm');
    const input = tf.input({ shape: [32, 32, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const odd = tf.layers.upSampling2d({ size: [2, 2], name: 'odd_upsampling' }).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: odd });
    await model.save(fileModelHandler(join(dir, 'odd')));
    model.dispose();
    const opts = { ...base, epochs: 1, weights: join(dir, 'odd'), cacheDir: join(dir, 'cache-odd') };
    await expect(train({ ...opts, backend: 'onnxruntime', out: join(dir, 'odd-ort') }))
      .rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('"odd_upsampling" (UpSampling2D)') });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {}, level: 'warn' as const };
    const r = await train({ ...opts, backend: 'auto', out: join(dir, 'odd-auto'), logger });
    expect(r.backend).toBe('onnxruntime');
    expect(warnings.join('\n')).toMatch(/runs on tfjs wasm: .*"odd_upsampling" \(UpSampling2D\)/);
  }, 300_000);

  it('retina export --to onnx: one .onnx that ONNX Runtime runs to retina predict\'s probabilities, with retina\'s metadata', async () => {
    const run = join(dir, 'wasm');
    const out = join(dir, 'grader.onnx');
    const r = parseJson<{ file: string; inputShape: number[] }>(await runCli(['export', '--model', run, '--to', 'onnx', '--out', out, '--json']));
    expect(r.file).toBe(out);
    const again = await runCli(['export', '--model', run, '--to', 'onnx', '--out', out]);
    expect(again.code).toBe(7);
    expect(again.stderr).toContain(out);
    const files = (await readdir(fx.images)).slice(0, 3).map((f) => join(fx.images, f));
    const predicted = parseJson<{ predictions: { probabilities: number[] }[] }>(await runCli(['predict', '--model', run, '--backend', 'wasm', '--json', ...files]));
    // What a user of the .onnx does: retina's transform (from the metadata), x/127.5-1, NHWC.
    const m = onnxProto.onnx.ModelProto.decode(await readFile(out));
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta['retina.grades']!)).toEqual([0, 1, 2, 3, 4]);
    const transform = JSON.parse(meta['retina.transform']!) as { size: number; crop: 'auto' | 'none'; normalize: 'none' | 'ben-graham' };
    expect(transform).toEqual({ size: 32, crop: 'auto', normalize: 'none' });
    expect(JSON.parse(meta['retina.input']!)).toMatchObject({ layout: 'NHWC', shape: [32, 32, 3], range: [-1, 1] });
    const x = new Float32Array(files.length * 32 * 32 * 3);
    for (const [i, f] of files.entries()) toNetworkInput(await transformImage(f, { ...transform, dtype: 'uint8' }), 'uint8', x, i * 32 * 32 * 3);
    const session = await createSession(out, { threads: 1 });
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['probabilities']);
    const probs = await runSession(session, x, [files.length, 32, 32, 3]);
    await session.release();
    const expected = Float32Array.from(predicted.predictions.flatMap((p) => p.probabilities));
    expect(maxRelDiff(probs, expected)).toBeLessThan(1e-4);
    for (let i = 0; i < files.length; i++) expect(probs.subarray(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 300_000);

  it('evaluate and predict run the grader in ONNX Runtime under --backend onnxruntime, to tfjs\' numbers', async () => {
    const run = join(dir, 'wasm');
    const env = { RETINA_CACHE_DIR: join(dir, 'cache-cli') };
    const ev = (b: string) => runCli(['evaluate', '--model', run, '--data', join(dir, 'raw'), '--split', 'all', '--backend', b, '--json'], { env }).then((r) => parseJson<{ engine: string; loss: number; confusion: number[][] }>(r));
    const [o, w] = [await ev('onnxruntime'), await ev('wasm')];
    expect([o.engine, w.engine]).toEqual(['onnxruntime', 'wasm']);
    expect(o.loss).toBeCloseTo(w.loss, 5);
    expect(o.confusion).toEqual(w.confusion);
  }, 300_000);
});
