import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildOnnxModel } from '../../../src/onnx/graph.js';
import { assemble, buildBackbone, buildHead } from '../../../src/train/models/model-registry.js';
import { tempDir } from '../../helpers/cli.js';
import { PYTHON, requirement } from '../../helpers/requirements.js';

const onnxPy = requirement('python3-onnx', spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import onnx (apt-get install -y python3-onnx)`);

/** ONNX's own checker (full check: types and shapes inferred through every node) and shape inference. */
const CHECK = `
import json, sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
g = onnx.shape_inference.infer_shapes(m, strict_mode=True).graph
dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({"ir": m.ir_version, "opset": m.opset_import[0].version, "input": dims(g.input[0]), "output": dims(g.output[0]),
  "meta": {p.key: p.value for p in m.metadata_props}}))
`;

describe.skipIf(!onnxPy.available)(`the graphs pass ONNX's own checker (python3-onnx)${onnxPy.titleSuffix}`, () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => { ({ dir, cleanup } = await tempDir('retina-onnx-check-')); await tf.setBackend('cpu'); });
  afterAll(() => cleanup?.());

  const check = async (name: string, bytes: Uint8Array) => {
    const file = join(dir, `${name}.onnx`);
    await writeFile(file, bytes);
    const r = spawnSync(PYTHON, ['-c', CHECK, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { ir: number; opset: number; input: (string | number)[]; output: (string | number)[]; meta: Record<string, string> };
  };

  it('inception-v3 backbone: valid, [batch,299,299,3] -> [batch,2048]', async () => {
    const bb = await buildBackbone({ model: 'inception-v3', seed: 1, trainable: false });
    const r = await check('inception', buildOnnxModel(bb.model));
    expect(r).toMatchObject({ ir: 8, opset: 13, input: ['batch', 299, 299, 3], output: ['batch', 2048] });
    bb.model.dispose();
  }, 120_000);

  it('a grader (small-cnn + head) with metadata: valid, [batch,5] probabilities, metadata readable', async () => {
    const bb = await buildBackbone({ model: 'small-cnn', seed: 1, trainable: false, inputShape: [40, 40, 3] });
    const full = assemble(bb.model, buildHead(bb.featureDim, 1));
    const r = await check('grader', buildOnnxModel(full, { outputName: 'probabilities', metadata: { 'retina.grades': '[0,1,2,3,4]' } }));
    expect(r).toMatchObject({ input: ['batch', 40, 40, 3], output: ['batch', 5], meta: { 'retina.grades': '[0,1,2,3,4]' } });
    full.dispose();
  });
});
