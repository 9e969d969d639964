import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src/backends/backend-registry.js';
import { buildInceptionV3, INCEPTION_UNITS, unitNames } from '../../../../src/train/models/inception-v3.js';
import { readKerasH5 } from '../../../../src/train/models/keras-h5.js';
import { adoptKerasInception } from '../../../../src/train/models/inception-h5.js';
import { buildBackbone } from '../../../../src/train/models/model-registry.js';
import { xxh64File } from '../../../../src/core/checksum.js';
import { ROOT, tempDir } from '../../../helpers/cli.js';
import { rejection } from '../../../helpers/errors.js';
import { PYTHON, requirement } from '../../../helpers/requirements.js';

const h5py = requirement('python3-h5py', spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import h5py and numpy (apt-get install -y python3-h5py)`);

/** Keras' layout, known values: test/helpers/write_keras_h5.py. */
function writeKerasH5(out: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, [join(ROOT, 'test/helpers/write_keras_h5.py'), out, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`write_keras_h5.py failed: ${r.stderr}`);
  return out;
}

const ROLE = { kernel: 0, gamma: 1, beta: 2, moving_mean: 3, moving_variance: 4 } as const;
/** The value write_keras_h5.py stores at flat index j of unit k's weight `role`. */
function known(unit: number, role: keyof typeof ROLE, j: number): number {
  const base = ((j * 40503 + unit * 977 + ROLE[role] * 131) % 65521) / 65521 - 0.5;
  return Math.fround(role === 'moving_variance' || role === 'gamma' ? base + 1 : base);
}

function expectKnown(values: Float32Array | Int32Array | Uint8Array, unit: number, role: keyof typeof ROLE, what: string): void {
  for (let j = 0; j < values.length; j++) {
    if (values[j] !== known(unit, role, j)) throw new Error(`${what}[${j}] = ${values[j]}, expected ${known(unit, role, j)} (unit ${unit} ${role})`);
  }
}

describe.skipIf(!h5py.available)('Keras HDF5 weights onto InceptionV3', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-h5-'));
    await selectBackend('cpu');
  });
  afterAll(() => cleanup());

  it('reads Keras\' layout: layer_names order, weight_names, the weights of each layer', async () => {
    const file = writeKerasH5(join(dir, 'k.h5'));
    const h5 = await readKerasH5(file);
    expect(h5.kerasVersion).toBe('2.1.6');
    // Layers without weights (input, activations, mixed) are left out; the file's order is kept.
    expect(h5.layers).toHaveLength(2 * INCEPTION_UNITS);
    expect(h5.layers.slice(0, 2).map((l) => l.name)).toEqual(['conv2d_1', 'batch_normalization_1']);
    expect(h5.layers[0]!.weights.map((w) => [w.name, w.role, w.shape])).toEqual([['conv2d_1/kernel:0', 'kernel', [3, 3, 3, 32]]]);
    expect(h5.layers[1]!.weights.map((w) => w.role)).toEqual(['beta', 'moving_mean', 'moving_variance']);
  });

  for (const [label, args] of [
    ['Keras 2 names (conv2d_1 ... conv2d_94), layers listed in creation order', []],
    ['tf.keras names (conv2d, conv2d_1 ... conv2d_93), layers listed in another order (Keras lists them by graph depth)', ['--names', 'tf2', '--order', 'depth']],
  ] as const) {
    it(`puts every value where Keras does: ${label}`, async () => {
      const file = writeKerasH5(join(dir, `all-${args.length}.h5`), ...args);
      const model = buildInceptionV3({ mode: 'keras', seed: 3 });
      const sources = adoptKerasInception(await readKerasH5(file), model);
      const tf2 = args.length > 0;
      expect(sources[0]).toEqual({ unit: 1, conv: 'conv2d' + (tf2 ? '' : '_1'), bn: 'batch_normalization' + (tf2 ? '' : '_1') });
      expect(sources[93]).toEqual({ unit: 94, conv: tf2 ? 'conv2d_93' : 'conv2d_94', bn: tf2 ? 'batch_normalization_93' : 'batch_normalization_94' });
      // Every unit, every weight, every element: Keras' kernel [kh, kw, in, out] is tfjs' layout.
      let checked = 0;
      for (let k = 1; k <= INCEPTION_UNITS; k++) {
        const names = unitNames(k);
        const conv = model.getLayer(names.conv), bn = model.getLayer(names.bn);
        const [kernel] = conv.getWeights();
        expectKnown(kernel!.dataSync() as Float32Array, k, 'kernel', names.conv);
        checked += kernel!.size;
        bn.weights.forEach((w, i) => {
          const role = w.originalName.split('/').pop() as keyof typeof ROLE;
          const value = bn.getWeights()[i]!;
          expectKnown(value.dataSync() as Float32Array, k, role, `${names.bn}/${role}`);
          checked += value.size;
        });
      }
      expect(checked).toBe(21_802_784);
      tf.dispose(model.getWeights());
    });
  }

  it('names the layer whose shape does not fit, and leaves the model untouched', async () => {
    const file = writeKerasH5(join(dir, 'bad.h5'), '--bad-shape', 'conv2d_7');
    const model = buildInceptionV3({ mode: 'keras', seed: 3 });
    const before = model.getLayer(unitNames(1).conv).getWeights()[0]!.dataSync().slice(0, 4);
    const err = await rejection(readKerasH5(file).then((h5) => adoptKerasInception(h5, model)));
    expect(err.code).toBe('BAD_INPUT');
    // Unit 7 is mixed0's 5x5 branch entry: 1x1, 192 -> 48 channels.
    expect(err.message).toContain('layer conv2d_7 (InceptionV3 unit 7 of 94) has kernel of shape [1, 1, 193, 48]; retina\'s InceptionV3 expects [1, 1, 192, 48]');
    expect(err.location.id).toBe('conv2d_7');
    expect(model.getLayer(unitNames(1).conv).getWeights()[0]!.dataSync().slice(0, 4)).toEqual(before);
    tf.dispose(model.getWeights());
  });

  it('says how many layers it found when the file is not an InceptionV3', async () => {
    const file = writeKerasH5(join(dir, 'short.h5'), '--drop', 'conv2d_94');
    const model = buildInceptionV3({ mode: 'keras', seed: 3 });
    const err = await rejection(readKerasH5(file).then((h5) => adoptKerasInception(h5, model)));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toContain('93 convolution and 94 batch-norm layers');
    tf.dispose(model.getWeights());
  });

  it('a file that is not HDF5 is CORRUPT, a missing one NOT_FOUND', async () => {
    await writeFile(join(dir, 'half.h5'), 'not hdf5 at all');
    expect((await rejection(readKerasH5(join(dir, 'half.h5')))).code).toBe('CORRUPT');
    expect((await rejection(readKerasH5(join(dir, 'missing.h5')))).code).toBe('NOT_FOUND');
  });

  it('buildBackbone: a frozen backbone from .h5 is the BN-folded Keras network, identified by the file checksum', async () => {
    const file = writeKerasH5(join(dir, 'bb.h5'), '--gamma');
    const backbone = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false, weights: file });
    const sum = await xxh64File(file);
    expect(backbone.weights).toEqual({ file, format: 'keras-h5', xxh64: sum.xxh64 });
    expect(backbone.identity).toBe(`weights:h5:${sum.xxh64}`);
    expect(backbone.folded).toBe(true);
    // Unit 1, output channel 0: W' = W * gamma / sqrt(var + 1e-3), b = beta - mean * gamma / sqrt(var + 1e-3).
    const [kernel, bias] = backbone.model.getLayer(unitNames(1).conv).getWeights();
    const factor = known(1, 'gamma', 0) / Math.sqrt(known(1, 'moving_variance', 0) + 1e-3);
    expect(kernel!.dataSync()[0]).toBeCloseTo(known(1, 'kernel', 0) * factor, 6);
    expect(bias!.dataSync()[0]).toBeCloseTo(known(1, 'beta', 0) - known(1, 'moving_mean', 0) * factor, 6);
    tf.dispose(backbone.model.getWeights());
    expect((await rejection(buildBackbone({ model: 'small-cnn', seed: 1, trainable: false, weights: file }))).code).toBe('BAD_ARGUMENT');
  });
});
