import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src/backends/backend-registry.js';
import { buildInceptionV3 } from '../../../../src/train/models/inception-v3.js';
import { foldBatchNorm } from '../../../../src/train/models/fold-batch-norm.js';
import { assemble, buildBackbone, buildHead } from '../../../../src/train/models/model-registry.js';
import { fileModelHandler } from '../../../../src/train/model-io.js';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { tempDir } from '../../../helpers/cli.js';

describe('inception-v3', () => {
  beforeAll(async () => { await selectBackend('wasm'); });

  it('has exactly Keras\' parameter counts: backbone 21,802,784, with the 2048→5 head 21,813,029', () => {
    const keras = buildInceptionV3({ mode: 'keras', seed: 1 });
    expect(keras.countParams()).toBe(21_802_784);
    expect(keras.layers.filter((l) => l.getClassName() === 'Conv2D')).toHaveLength(94);
    expect(keras.outputs[0]!.shape).toEqual([null, 2048]);
    const head = buildHead(2048, 1);
    expect(assemble(keras, head).countParams()).toBe(21_813_029);
    // The trainable form adds gamma to each BN (tfjs cannot train BN without it): +17,216.
    const trainable = buildInceptionV3({ mode: 'trainable', seed: 1 });
    expect(trainable.countParams()).toBe(21_802_784 + 17_216);
    tf.dispose([keras, trainable].flatMap((m) => m.getWeights()));
  });

  it('folds batch norm into the convolutions without changing the features', async () => {
    const keras = buildInceptionV3({ mode: 'keras', seed: 2 });
    // Non-trivial BN statistics, so that folding has something to get wrong.
    for (const layer of keras.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const shapes = layer.getWeights().map((w) => w.shape);
      layer.setWeights(shapes.map((s, i) => i === shapes.length - 1 ? tf.randomUniform(s, 0.5, 2, 'float32', i) : tf.randomNormal(s, 0, 0.1, 'float32', i)));
    }
    const folded = buildInceptionV3({ mode: 'folded', seed: 2 });
    foldBatchNorm(keras, folded);
    expect(folded.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    const x = tf.randomUniform([1, 299, 299, 3], -1, 1, 'float32', 7);
    const a = keras.predict(x) as tf.Tensor, b = folded.predict(x) as tf.Tensor;
    const rel = (await tf.norm(tf.sub(a, b)).data())[0]! / (await tf.norm(a).data())[0]!;
    expect(rel).toBeLessThan(1e-4);
  }, 120_000);

  it('builds the same seeded weights twice (what lets worker threads rebuild it)', async () => {
    const a = await buildBackbone({ model: 'small-cnn', seed: 5, trainable: false, inputShape: [32, 32, 3] });
    const b = await buildBackbone({ model: 'small-cnn', seed: 5, trainable: false, inputShape: [32, 32, 3] });
    const wa = a.model.getWeights(), wb = b.model.getWeights();
    expect(wa.length).toBe(wb.length);
    for (let i = 0; i < wa.length; i++) expect(Array.from(await wa[i]!.data())).toEqual(Array.from(await wb[i]!.data()));
    expect(a.identity).toBe(b.identity);
  });

  it('adopts a saved Keras-layout InceptionV3 as --weights by unit order, folded for inference', async () => {
    const { dir, cleanup } = await tempDir('retina-incv3-');
    try {
      const keras = buildInceptionV3({ mode: 'keras', seed: 3, name: 'saved_inception' });
      for (const layer of keras.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
        const shapes = layer.getWeights().map((w) => w.shape);
        layer.setWeights(shapes.map((sh, i) => i === shapes.length - 1 ? tf.randomUniform(sh, 0.5, 2, 'float32', i + 10) : tf.randomNormal(sh, 0, 0.1, 'float32', i + 10)));
      }
      await keras.save(fileModelHandler(join(dir, 'incv3')));
      // Rename every unit the way Keras names layers (conv2d, conv2d_1, …, batch_normalization_93),
      // as in a model converted with tensorflowjs_converter.
      const json = join(dir, 'incv3', 'model.json');
      const keep = (n: string, base: string) => (Number(n) === 1 ? base : `${base}_${Number(n) - 1}`);
      await writeFile(json, (await readFile(json, 'utf8'))
        .replace(/unit(\d{3})_conv/g, (_, n: string) => keep(n, 'conv2d'))
        .replace(/unit(\d{3})_bn/g, (_, n: string) => keep(n, 'batch_normalization'))
        .replace(/unit(\d{3})_relu/g, (_, n: string) => keep(n, 'activation')));
      expect(await readFile(json, 'utf8')).toContain('"batch_normalization_93/moving_mean"');
      const b = await buildBackbone({ model: 'inception-v3', seed: 99, trainable: false, weights: join(dir, 'incv3', 'model.json') });
      expect(b.folded).toBe(true);
      expect(b.identity).toMatch(/^weights:/);
      const x = tf.randomUniform([1, 299, 299, 3], -1, 1, 'float32', 8);
      const a = keras.predict(x) as tf.Tensor, c = b.model.predict(x) as tf.Tensor;
      const rel = (await tf.norm(tf.sub(a, c)).data())[0]! / (await tf.norm(a).data())[0]!;
      expect(rel).toBeLessThan(1e-4);
    } finally {
      await cleanup();
    }
  }, 180_000);

  it('refuses data of another size', async () => {
    await expect(buildBackbone({ model: 'inception-v3', seed: 1, trainable: false, inputShape: [64, 64, 3] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
