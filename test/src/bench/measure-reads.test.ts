import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureCeiling, measureReads } from '../../../src/bench/measure-reads.js';
import { shardPath } from '../../../formats/dataset.js';
import { tempDir } from '../../helpers/cli.js';
import { writeShard } from '../../helpers/tensors.js';

// The measuring functions run (on a tiny dataset); no speed is asserted here.
describe('src/bench/measure-reads measuring functions', () => {
  it('measure every mode and the ceiling', async () => {
    const { dir, cleanup } = await tempDir('retina-bench-');
    const spec = { dtype: 'uint8' as const, shape: [8, 8, 3] };
    await writeShard(dir, 'raw', spec, 0, 1, 40);
    for (const mode of ['uint8', 'float32', 'random'] as const) {
      const m = await measureReads(dir, { mode, batch: 8, passes: 2 });
      expect(m.records).toBe(40);
      expect(m.passes).toHaveLength(2);
      expect(m.imagesPerSecond).toBeGreaterThan(0);
      expect(m.cpuImagesPerSecond).toBeGreaterThan(0);
    }
    const c = await measureCeiling(join(shardPath(dir, 0, 1), 'data.npy'), 192, 40, { passes: 1, offset: 128, checksum: true });
    expect(c.bestImagesPerSecond).toBeGreaterThan(0);
    await cleanup();
  });
});
