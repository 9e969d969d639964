import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexDataset } from '../../formats/dataset.js';
import type { TensorSpec } from '../../formats/types.js';
import type { InspectOutput } from '../../commands/inspect.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { writeShard } from '../helpers/tensors.js';

const spec: TensorSpec = { dtype: 'uint8', shape: [8, 8, 3] };

describe('retina inspect --sheet', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-inspect-sheet-')));
  afterAll(() => cleanup());

  it('--json names the file written, the tile count and the ids shown; bad flags exit 2, unknown ids 4', async () => {
    const ds = join(dir, 'ds');
    await writeShard(ds, 'raw', spec, 0, 1, 20);
    await indexDataset(ds);
    const out = join(dir, 'sheet.png');
    const r = await runCli(['inspect', ds, '--sheet', out, '--per-grade', '2', '--split', 'train', '--seed', '3', '--json']);
    expect(r.code).toBe(0);
    const j = parseJson<InspectOutput>(r);
    expect(j.records).toBe(20);
    expect(j.sheet).toMatchObject({ file: out, kind: 'png', tiles: 10 });
    expect(j.sheet!.ids).toHaveLength(10);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([j.sheet!.width, j.sheet!.height]);

    const ids = await runCli(['inspect', ds, '--sheet', join(dir, 'ids.html'), '--ids', '0_0_right,0_3_left', '--json']);
    expect(ids.code).toBe(0);
    expect(parseJson<InspectOutput>(ids).sheet).toMatchObject({ kind: 'html', tiles: 2, ids: ['0_0_right', '0_3_left'] });

    expect((await runCli(['inspect', ds, '--sheet', join(dir, 'x.gif')])).code).toBe(2);
    const missing = await runCli(['inspect', ds, '--sheet', join(dir, 'y.png'), '--ids', 'nope']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('nope');
    expect(existsSync(join(dir, 'y.png'))).toBe(false);
  }, 60_000);
});
