import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexResult } from '../../formats/dataset.js';
import type { TensorSpec } from '../../formats/types.js';
import type { InspectResult } from '../../formats/verify.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { writeShard } from '../helpers/tensors.js';

const spec: TensorSpec = { dtype: 'float16', shape: [6, 4, 3] };

describe('retina index and retina inspect', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-index-')));
  afterAll(() => cleanup());

  it('index names missing shards (exit 6), then writes manifest.json; inspect reports counts', async () => {
    const ds = join(dir, 'ds');
    await writeShard(ds, 'msgpack', spec, 0, 3, 6);
    await writeShard(ds, 'msgpack', spec, 2, 3, 4);
    const partial = await runCli(['index', ds, '--json']);
    expect(partial.code).toBe(6);
    expect(parseJson<IndexResult>(partial)).toMatchObject({ complete: false, missingShards: [1], shardCount: 3, shards: 2, records: 10 });
    expect(existsSync(join(ds, 'manifest.json'))).toBe(false);
    const human = await runCli(['inspect', ds]);
    expect(human.code).toBe(6);
    expect(human.stderr).toContain('shard 1 of 3 is missing');

    await writeShard(ds, 'msgpack', spec, 1, 3, 5);
    const done = await runCli(['index', ds, '--json']);
    expect(done.code).toBe(0);
    expect(parseJson<IndexResult>(done)).toMatchObject({ complete: true, missingShards: [], records: 15, manifest: join(ds, 'manifest.json') });

    const inspected = await runCli(['inspect', ds, '--json']);
    expect(inspected.code).toBe(0);
    // recordMeta(i): label i % 5, split val when i % 4 == 3; shards of 6, 5 and 4 records
    expect(parseJson<InspectResult>(inspected)).toMatchObject({
      format: 'msgpack', shape: [6, 4, 3], dtype: 'float16', records: 15, shards: 3,
      splits: { train: 12, val: 3 },
      labels: { '0': 4, '1': 3, '2': 3, '3': 3, '4': 2 },
    });
    const text = await runCli(['inspect', ds]);
    expect(text.stdout).toMatch(/float16 \[6, 4, 3\]/);
  });
});
