import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { createTfjsFormat, TFJS_MANIFEST_FILE, type TfjsWeightSpec } from '../../formats/tfjs.js';
import { float16ToNumber, typedArrayOf } from '../../formats/typed.js';
import { byteLength, type TensorSpec } from '../../formats/types.js';
import { tempDir } from '../helpers/cli.js';
import { recordMeta, tensorBytes } from '../helpers/tensors.js';

interface Group { paths: string[]; weights: TfjsWeightSpec[] }

/** What tfjs should decode record bytes to: float32 values for every stored dtype. */
function expectedValues(spec: TensorSpec, bytes: Uint8Array): number[] {
  if (spec.dtype === 'uint8') return Array.from(bytes);
  if (spec.dtype === 'float16') return Array.from(typedArrayOf(bytes, 'float16'), float16ToNumber);
  return Array.from(typedArrayOf(bytes, 'float32'));
}

describe('tfjs format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-tfjs-'));
    await tf.setBackend('cpu');
  });
  afterAll(() => cleanup());

  it.each(['uint8', 'float16', 'float32'] as const)('tf.io.decodeWeights reads every record back (%s), across bounded .bin files', async (dtype) => {
    const spec: TensorSpec = { dtype, shape: [5, 4, 3] };
    const rb = byteLength(spec);
    const maxFileBytes = 3 * rb + 10; // three records per file
    const format = createTfjsFormat({ maxFileBytes });
    const ds = join(dir, dtype);
    const w = await format.createWriter({ dir: shardPath(ds, 0, 1), index: 0, count: 1, spec });
    const n = 8;
    for (let i = 0; i < n; i++) await w.append(recordMeta(i), tensorBytes(spec, i));
    const m = await w.close();

    const shard = shardPath(ds, 0, 1);
    const parsed = JSON.parse(await readFile(join(shard, TFJS_MANIFEST_FILE), 'utf8')) as { weightsManifest: Group[] };
    expect(parsed.weightsManifest).toHaveLength(1);
    const group = parsed.weightsManifest[0]!;
    expect(group.paths).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
    for (const p of group.paths) expect(m.files.find((f) => f.name === p)!.bytes).toBeLessThanOrEqual(maxFileBytes);
    expect(group.weights.map((x) => x.name)).toEqual(Array.from({ length: n }, (_, i) => recordMeta(i).id));

    // Exactly what tf.io.loadWeights does after fetching: the files in order, decoded by the specs.
    const buffers = await Promise.all(group.paths.map(async (p) => {
      const b = await readFile(join(shard, p));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }));
    const named = tf.io.decodeWeights(buffers, group.weights);
    for (let i = 0; i < n; i++) {
      const t = named[recordMeta(i).id]!;
      expect(t.shape).toEqual(spec.shape);
      expect(t.dtype).toBe('float32');
      const got = Array.from(t.dataSync());
      const want = expectedValues(spec, tensorBytes(spec, i));
      if (dtype === 'float32') expect(got).toEqual(want);
      else got.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 6));
    }
    tf.dispose(Object.values(named));

    // and retina's own reader agrees, record by record
    const r = await openDataset(ds);
    for (let i = 0; i < n; i++) expect(Buffer.from((await r.get(i)).tensor).equals(Buffer.from(tensorBytes(spec, i)))).toBe(true);
    await r.close();
  });

  it('gives a record larger than the bound a file of its own', async () => {
    const spec: TensorSpec = { dtype: 'uint8', shape: [10, 10, 3] };
    const format = createTfjsFormat({ maxFileBytes: 100 });
    const ds = join(dir, 'big');
    const w = await format.createWriter({ dir: shardPath(ds, 0, 1), index: 0, count: 1, spec });
    for (let i = 0; i < 3; i++) await w.append(recordMeta(i), tensorBytes(spec, i));
    const m = await w.close();
    expect(m.files.filter((f) => f.name.endsWith('.bin')).map((f) => f.bytes)).toEqual([300, 300, 300]);
  });
});
