import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { tempDir } from '../helpers/cli.js';
import { PYTHON, requirement } from '../helpers/requirements.js';
import { tensorBytes, writeShard } from '../helpers/tensors.js';
import type { TensorSpec } from '../../formats/types.js';

// Debian's python3-numpy (the pyenv `python3` on PATH has none); under CI a missing one fails.
const hasNumpy = requirement('python3-numpy', spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import numpy (apt-get install -y python3-numpy)`).available;

describe('raw format', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-raw-')));
  afterAll(() => cleanup());

  it.skipIf(!hasNumpy)('writes data.npy that numpy.load(mmap_mode="r") reads with the same values, for every dtype', async () => {
    const cases: [TensorSpec, string][] = [
      [{ dtype: 'uint8', shape: [7, 5, 3] }, 'uint8'],
      [{ dtype: 'float16', shape: [3, 3, 3] }, 'float16'],
      [{ dtype: 'float32', shape: [2, 4, 3] }, 'float32'],
    ];
    for (const [spec, npName] of cases) {
      const ds = join(dir, spec.dtype);
      await writeShard(ds, 'raw', spec, 0, 1, 6);
      const npy = join(shardPath(ds, 0, 1), 'data.npy');
      // Python prints shape, dtype, whether it is a memmap, and the bytes of record 4 as hex.
      const out = execFileSync(PYTHON, ['-c', [
        'import sys, numpy as np',
        'a = np.load(sys.argv[1], mmap_mode="r")',
        'print(a.shape, a.dtype, isinstance(a, np.memmap))',
        'print(np.ascontiguousarray(a[4]).tobytes().hex())',
      ].join('\n'), npy], { encoding: 'utf8' }).trim().split('\n');
      expect(out[0]).toBe(`(6, ${spec.shape.join(', ')}) ${npName} True`);
      expect(out[1]).toBe(Buffer.from(tensorBytes(spec, 4)).toString('hex'));
    }
  });

  it.skipIf(!hasNumpy)('an empty shard is a valid (0, H, W, C) array', async () => {
    const ds = join(dir, 'empty');
    await writeShard(ds, 'raw', { dtype: 'uint8', shape: [4, 4, 3] }, 0, 1, 0);
    const out = execFileSync(PYTHON, ['-c', 'import sys, numpy as np; print(np.load(sys.argv[1], mmap_mode="r").shape)', join(shardPath(ds, 0, 1), 'data.npy')], { encoding: 'utf8' });
    expect(out.trim()).toBe('(0, 4, 4, 3)');
  });

  it('keeps float tensors aligned: the .npy header is a multiple of 64 bytes', async () => {
    const ds = join(dir, 'aligned');
    const spec: TensorSpec = { dtype: 'float32', shape: [3, 3, 3] };
    await writeShard(ds, 'raw', spec, 0, 1, 3);
    const r = await openDataset(ds);
    const rec = await r.get(2);
    expect(Buffer.from(rec.tensor).equals(Buffer.from(tensorBytes(spec, 2)))).toBe(true);
    await r.close();
  });
});
