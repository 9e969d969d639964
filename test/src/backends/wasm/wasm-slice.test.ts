import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src/backends/backend-registry.js';

type Job = (x: tf.Tensor) => tf.Tensor[];
const JOBS: [string, number[], Job][] = [
  ['flat split into uneven parts', [1000], (x) => tf.split(x, [1, 400, 0, 599])],
  ['split along axis 0 of a matrix', [6, 5], (x) => tf.split(x, [2, 1, 3], 0)],
  ['split along axis 1 (not contiguous: stock kernel)', [4, 6], (x) => tf.split(x, 3, 1)],
  ['split along axis 1 after a leading 1', [1, 9, 2], (x) => tf.split(x, [4, 5], 1)],
  ['contiguous slice of rows', [8, 3, 2], (x) => [tf.slice(x, [2, 0, 0], [3, -1, -1])]],
  ['slice inside a row', [8, 3], (x) => [tf.slice(x, [5, 1], [1, 2])]],
  ['non-contiguous slice (stock kernel)', [5, 4, 3], (x) => [tf.slice(x, [1, 1, 0], [3, 2, 2])]],
  ['int32 slice', [10], (x) => [tf.slice(tf.cast(x, 'int32'), [3], [4])]],
];

async function run(backend: string): Promise<number[][][]> {
  await selectBackend(backend);
  const out: number[][][] = [];
  for (const [, shape, job] of JOBS) {
    const x = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 100);
    const parts = job(x);
    out.push(await Promise.all(parts.map(async (p) => [...p.shape, -1, ...Array.from(await p.data())])));
    tf.dispose([x, ...parts]);
  }
  return out;
}

describe('wasm contiguous Slice and SplitV', () => {
  it('return what the cpu backend returns, shapes and values', async () => {
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    JOBS.forEach(([name], i) => expect(wasm[i], name).toEqual(cpu[i]));
  });
});
