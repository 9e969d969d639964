import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writePngBands, type RgbBand } from '../../../src/inspect/png-stream.js';
import { drawText, textWidth } from '../../../src/inspect/bitmap-font.js';
import { createRng } from '../../../src/rng.js';
import { tempDir } from '../../helpers/cli.js';

async function* bandsOf(data: Uint8Array, width: number, heights: number[]): AsyncGenerator<RgbBand> {
  let row = 0;
  for (const h of heights) {
    yield { data: data.slice(row * width * 3, (row + h) * width * 3), rows: h };
    row += h;
  }
}

describe('streamed PNG', () => {
  let dir: string, cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('retina-png-')));
  afterEach(async () => cleanup());

  it('decodes (libvips) to exactly the pixels of its bands, whatever their heights', async () => {
    const width = 37, heights = [1, 5, 64, 3, 200], height = heights.reduce((a, b) => a + b, 0);
    const rng = createRng(5);
    const data = Uint8Array.from({ length: width * height * 3 }, () => rng.int(0, 255));
    const file = join(dir, 'a.png');
    await writePngBands(file, width, height, bandsOf(data, width, heights));
    const { data: back, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
    expect(new Uint8Array(back)).toEqual(data);
  });

  it('refuses bands that do not add up to the announced height', async () => {
    const data = new Uint8Array(4 * 10 * 3);
    await expect(writePngBands(join(dir, 'b.png'), 4, 11, bandsOf(data, 4, [10]))).rejects.toThrow(/gave 10 rows, 11 announced/);
    await expect(writePngBands(join(dir, 'c.png'), 4, 9, bandsOf(data, 4, [10]))).rejects.toThrow(/more than the 9 rows/);
  });
});

describe('bitmap font', () => {
  it('draws inside its measured width only, and clips at the canvas edge', () => {
    const text = 'grade 4: 10_left', width = 120, height = 12;
    const c = { data: new Uint8Array(width * height * 3), width, height };
    drawText(c, 2, 2, text, [255, 255, 255]);
    let maxX = -1;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (c.data[(y * width + x) * 3]) maxX = Math.max(maxX, x);
    expect(maxX).toBeGreaterThan(2 + textWidth(text) - 8);
    expect(maxX).toBeLessThan(2 + textWidth(text));
    expect(() => drawText(c, 100, 8, 'overflowing label', [1, 2, 3])).not.toThrow();
  });
});
