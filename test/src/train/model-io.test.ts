import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '../../../src/backends/backend-registry.js';
import { fileModelHandler, loadLayersModelFile } from '../../../src/train/model-io.js';
import { buildBackbone } from '../../../src/train/models/model-registry.js';
import { tempDir } from '../../helpers/cli.js';

/** A small feature extractor saved by the test itself (what --weights loads). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [24, 24, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ scale: true }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 10, kernelSize: 3, strides: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

describe('file model IO handler', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => {
    await selectBackend('wasm');
    ({ dir, cleanup } = await tempDir('retina-modelio-'));
  });
  afterAll(() => cleanup?.());

  it('saves model.json + weights.bin and loads the same model back', async () => {
    const m = smallModel();
    await m.save(fileModelHandler(join(dir, 'm1')));
    expect((await readdir(join(dir, 'm1'))).sort()).toEqual(['model.json', 'weights.bin']);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
    const back = await loadLayersModelFile(join(dir, 'm1'));
    const x = tf.randomUniform([2, 24, 24, 3], -1, 1, 'float32', 9);
    expect(Array.from(await (back.predict(x) as tf.Tensor).data())).toEqual(Array.from(await (m.predict(x) as tf.Tensor).data()));
  });

  it('loads a saved model as the --weights backbone, average-pooling its feature map', async () => {
    const m = smallModel();
    await m.save(fileModelHandler(join(dir, 'bb')));
    const b = await buildBackbone({ model: 'small-cnn', seed: 1, trainable: false, weights: join(dir, 'bb', 'model.json') });
    expect(b.inputShape).toEqual([24, 24, 3]);
    expect(b.featureDim).toBe(10);
    expect(b.identity).toMatch(/^weights:[0-9a-f]{16}$/);
    const x = tf.randomUniform([2, 24, 24, 3], -1, 1, 'float32', 10);
    const expected = tf.mean(m.predict(x) as tf.Tensor, [1, 2]);
    const got = b.model.predict(x) as tf.Tensor;
    expect(got.shape).toEqual([2, 10]);
    const diff = (await tf.max(tf.abs(tf.sub(got, expected))).data())[0]!;
    expect(diff).toBeLessThan(1e-5);
  });

  it('reports a missing model as NOT_FOUND and damaged ones as CORRUPT', async () => {
    await expect(loadLayersModelFile(join(dir, 'nothing-here'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const m = smallModel();
    await m.save(fileModelHandler(join(dir, 'bad')));
    const json = join(dir, 'bad', 'model.json');
    const text = await readFile(json, 'utf8');
    await truncate(join(dir, 'bad', 'weights.bin'), 100);
    await expect(loadLayersModelFile(json)).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/hold 100 bytes/) });
    await writeFile(json, text.slice(0, 50));
    await expect(loadLayersModelFile(json)).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/not JSON/) });
    await writeFile(json, JSON.stringify({ format: 'graph-model', modelTopology: [] }));
    await expect(loadLayersModelFile(json)).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
