import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { buildOnnxModel } from '../../../src/onnx/graph.js';
import { cachedOnnxGraph } from '../../../src/onnx/graph-cache.js';
import { createSession, runSession } from '../../../src/backends/onnxruntime/ort-runtime.js';
import { buildBackbone } from '../../../src/train/models/model-registry.js';
import { tempDir } from '../../helpers/cli.js';

/** Relative L2 error of `a` against the reference `b`. */
function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
}

/** Deterministic images in [-1, 1]. */
function images(n: number, [h, w, c]: number[]): Float32Array {
  const x = new Float32Array(n * h! * w! * c!);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7071 + (i % 7)) * 0.9;
  return x;
}

async function both(model: tf.LayersModel, n: number): Promise<{ tfjs: Float32Array; ort: Float32Array }> {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const x = images(n, shape);
  const y = tf.tidy(() => model.predict(tf.tensor4d(x, [n, ...shape] as [number, number, number, number])) as tf.Tensor);
  const tfjs = await y.data() as Float32Array;
  y.dispose();
  const session = await createSession(buildOnnxModel(model), { threads: 1 });
  const ort = await runSession(session, x, [n, ...shape]);
  await session.release();
  return { tfjs, ort };
}

describe.each(['cpu', 'wasm'])('the ONNX graph of retina\'s backbones against tfjs %s', (backend) => {
  beforeAll(async () => { await tf.setBackend(backend); });

  it('small-cnn (batch norm folded): features equal within 1e-4 relative', async () => {
    const bb = await buildBackbone({ model: 'small-cnn', seed: 5, trainable: false, inputShape: [48, 40, 3] });
    const { tfjs, ort } = await both(bb.model, 3);
    expect(ort.length).toBe(3 * 64);
    expect(relErr(ort, tfjs)).toBeLessThan(1e-4);
    bb.model.dispose();
  });

  it('small-cnn in its trainable form: the builder folds each BatchNormalization itself', async () => {
    const bb = await buildBackbone({ model: 'small-cnn', seed: 6, trainable: true, inputShape: [32, 32, 3] });
    // Moving statistics away from their initial 0/1, so that folding them matters.
    for (const l of bb.model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      l.setWeights(l.getWeights().map((w, i) => tf.tidy(() => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', 10 + i))));
    }
    const { tfjs, ort } = await both(bb.model, 2);
    expect(relErr(ort, tfjs)).toBeLessThan(1e-4);
    bb.model.dispose();
  });

  it.runIf(backend === 'wasm')('inception-v3 (21.8 M parameters, folded): 2048 features equal within 1e-4 relative', async () => {
    const bb = await buildBackbone({ model: 'inception-v3', seed: 2, trainable: false });
    const { tfjs, ort } = await both(bb.model, 2);
    expect(ort.length).toBe(2 * 2048);
    expect(relErr(ort, tfjs)).toBeLessThan(1e-4);
    // Not a trivial agreement: the two images' features differ.
    expect(relErr(ort.subarray(0, 2048), ort.subarray(2048))).toBeGreaterThan(1e-3);
    bb.model.dispose();
  }, 300_000);
});

describe('the ONNX builder on other layer models', () => {
  beforeAll(async () => { await tf.setBackend('cpu'); });

  it('builds what a --weights model may hold: strided/dilated same convs, standalone BN, pools, concat, add, flatten, dense', async () => {
    const input = tf.input({ shape: [17, 15, 3] });
    const conv = (x: tf.SymbolicTensor, f: number, o: Partial<tf.layers.Conv2DLayerArgs> = {}) => tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: f }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: f + 1 }), ...o }).apply(x) as tf.SymbolicTensor;
    const a = conv(input, 6, { strides: 2, activation: 'relu' });
    const b = tf.layers.batchNormalization({ axis: 3 }).apply(tf.layers.activation({ activation: 'tanh' }).apply(conv(input, 6, { strides: 2 }))) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    const d = conv(sum, 5, { dilationRate: 2, activation: 'sigmoid' });
    const m = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(d) as tf.SymbolicTensor;
    const p = tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(m) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([m, p]) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(tf.layers.dropout({ rate: 0.5 }).apply(cat)) as tf.SymbolicTensor;
    const g = tf.layers.globalMaxPooling2d({}).apply(cat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 7, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }).apply(tf.layers.concatenate().apply([flat, g])) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const bn = model.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
    bn.setWeights([tf.tensor1d([1.5, 0.5, 1, 2, 0.7, 1.1]), tf.tensor1d([0.1, -0.2, 0, 0.3, 0, 0.05]), tf.tensor1d([0.2, 0, -0.1, 0.3, 0, 0]), tf.tensor1d([0.5, 1, 2, 0.8, 1, 1.2])]);
    const { tfjs, ort } = await both(model, 3);
    expect(relErr(ort, tfjs)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('names the layer it cannot build, as UNSUPPORTED', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const up = tf.layers.upSampling2d({ size: [2, 2], name: 'my_upsample' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.globalAveragePooling2d({}).apply(up) as tf.SymbolicTensor });
    expect(() => buildOnnxModel(model)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringMatching(/"my_upsample" \(UpSampling2D\)/) }));
    model.dispose();
  });

  it('writes ONNX\'s own messages: opset 13, NHWC input with a free batch, the metadata asked for', async () => {
    const bb = await buildBackbone({ model: 'small-cnn', seed: 1, trainable: false, inputShape: [16, 16, 3] });
    const bytes = buildOnnxModel(bb.model, { metadata: { 'retina.grades': '0,1,2,3,4' } });
    const m = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(String(m.opsetImport[0]!.version))).toBe(13);
    const dims = m.graph!.input[0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(String(d.dimValue)))).toEqual(['batch', 16, 16, 3]);
    expect(m.graph!.node[0]!.opType).toBe('Transpose');
    expect(m.graph!.node.filter((n) => n.opType === 'Conv')).toHaveLength(4);
    expect(m.metadataProps).toEqual([expect.objectContaining({ key: 'retina.grades', value: '0,1,2,3,4' })]);
    bb.model.dispose();
  });
});

describe('the on-disk graph cache', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => { ({ dir, cleanup } = await tempDir('retina-onnx-cache-')); await tf.setBackend('cpu'); });
  afterAll(() => cleanup?.());

  it('builds once per weights checksum and rebuilds when the weights change', async () => {
    const a = await buildBackbone({ model: 'small-cnn', seed: 1, trainable: false, inputShape: [16, 16, 3] });
    const first = await cachedOnnxGraph(a.model, 'weights:00000000000000aa', dir);
    expect(first.hit).toBe(false);
    const mtime = (await stat(first.file)).mtimeMs;
    const again = await cachedOnnxGraph(a.model, 'weights:00000000000000aa', dir);
    expect(again).toEqual({ ...first, hit: true });
    expect((await stat(again.file)).mtimeMs).toBe(mtime);
    const changed = await cachedOnnxGraph(a.model, 'weights:00000000000000bb', dir);
    expect(changed.hit).toBe(false);
    expect(changed.file).not.toBe(first.file);
    // A damaged cache file is not trusted blindly: ONNX Runtime refuses it with the file named.
    await writeFile(first.file, 'not a model');
    await expect(createSession(first.file, { threads: 1 })).rejects.toMatchObject({ code: 'EXTERNAL', location: { file: first.file } });
    a.model.dispose();
  });
});
