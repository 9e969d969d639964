import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreviewResult } from '../../src/preview/preview.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';

describe('retina preview', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('retina-preview-cli-')));
  afterAll(() => cleanup());

  it('--json: the file written, tile count, images shown; flags as in preprocess; bad input exits 2 / 4', async () => {
    const img = join(dir, 'a.png');
    await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 120, g: 60, b: 30 } } }).png().toFile(img);
    const out = join(dir, 'p.jpeg');
    const r = await runCli(['preview', img, img, '--out', out, '--size', '40', '--crop', 'none', '--normalize', 'ben-graham', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson<PreviewResult>(r);
    expect(j).toMatchObject({ file: out, kind: 'jpeg', tiles: 8, ids: ['a.png', 'a.png'], transform: { size: 40, crop: 'none', normalize: 'ben-graham' } });
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([j.width, j.height]);
    expect((await runCli(['preview', img, '--out', join(dir, 'q.png'), '--size', '4'])).code).toBe(2);
    const missing = await runCli(['preview', join(dir, 'none.jpeg'), '--out', join(dir, 'q.png')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('none.jpeg');
    expect(existsSync(join(dir, 'q.png'))).toBe(false);
  }, 60_000);
});
