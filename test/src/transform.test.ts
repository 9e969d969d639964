import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { transformImage, transformStages, type TransformOptions } from '../../src/transform.js';
import { RetinaError } from '../../src/core/errors.js';
import { renderFundus } from '../../fixtures/generate.js';
import { createRng } from '../../src/rng.js';
import { KAGGLE_SAMPLE, tempDir } from '../helpers/cli.js';
import { kaggleSample } from '../helpers/requirements.js';

const sample = kaggleSample();

const SIZE = 128;
const OPTS: TransformOptions = { size: SIZE, crop: 'auto', normalize: 'none', dtype: 'uint8' };
const SAMPLE = ['10_left', '10_right', '13_left', '13_right', '15_left', '15_right', '16_left', '16_right', '17_left', '17_right'];
/** The sample images whose circle the camera clipped at top and bottom (see the sample's README). */
const CLIPPED = new Set(['16_left', '16_right']);

/** Share of pixels of row/column `i` whose brightest channel is above the border's level. */
function brightShare(img: Uint8Array, size: number, axis: 'row' | 'col', i: number): number {
  let n = 0;
  for (let j = 0; j < size; j++) {
    const p = (axis === 'row' ? i * size + j : j * size + i) * 3;
    if (Math.max(img[p]!, img[p + 1]!, img[p + 2]!) > 12) n++;
  }
  return n / size;
}

function brightExtent(img: Uint8Array, size: number, axis: 'row' | 'col'): [number, number] {
  const lines = Array.from({ length: size }, (_, i) => brightShare(img, size, axis, i) > 0.02);
  return [lines.indexOf(true), lines.lastIndexOf(true)];
}

describe.skipIf(!sample.available)(`transform on the real Kaggle sample${sample.titleSuffix}`, () => {
  const out = new Map<string, Uint8Array>();
  beforeAll(async () => {
    for (const id of SAMPLE) out.set(id, await transformImage(join(KAGGLE_SAMPLE, 'train', `${id}.jpeg`), OPTS));
  });

  it('gives size x size x 3 uint8', () => {
    for (const t of out.values()) expect(t.length).toBe(SIZE * SIZE * 3);
  });

  it('fills the square with the retina: left and right edges touched by every image, top and bottom by unclipped ones', () => {
    for (const [id, img] of out) {
      const [left, right] = brightExtent(img, SIZE, 'col');
      expect(left, id).toBeLessThanOrEqual(3);
      expect(right, id).toBeGreaterThanOrEqual(SIZE - 4);
      const [top, bottom] = brightExtent(img, SIZE, 'row');
      if (CLIPPED.has(id)) {
        // Clipped by the camera: black bands above and below, the same height (the circle is centred).
        expect(top, id).toBeGreaterThan(3);
        expect(Math.abs(top - (SIZE - 1 - bottom)), id).toBeLessThanOrEqual(3);
      } else {
        expect(top, id).toBeLessThanOrEqual(3);
        expect(bottom, id).toBeGreaterThanOrEqual(SIZE - 4);
      }
    }
  });

  it('clips nothing: the retina meets the left/right edges in a short chord, and the corners are black', () => {
    for (const [id, img] of out) {
      // A circle inscribed in the square touches each side over a few pixels; a crop 5 % too
      // tight would leave a bright chord of ~45 % of the side there.
      expect(brightShare(img, SIZE, 'col', 0), id).toBeLessThan(0.3);
      expect(brightShare(img, SIZE, 'col', SIZE - 1), id).toBeLessThan(0.3);
      if (!CLIPPED.has(id)) {
        expect(brightShare(img, SIZE, 'row', 0), id).toBeLessThan(0.3);
        expect(brightShare(img, SIZE, 'row', SIZE - 1), id).toBeLessThan(0.3);
      }
      for (const [x, y] of [[1, 1], [SIZE - 2, 1], [1, SIZE - 2], [SIZE - 2, SIZE - 2]] as const) {
        const p = (y * SIZE + x) * 3;
        expect(Math.max(img[p]!, img[p + 1]!, img[p + 2]!), `${id} corner`).toBeLessThan(20);
      }
    }
  });

  it('finds the dark, underexposed 10_right like its brighter pair 10_left', async () => {
    const l = await transformStages(join(KAGGLE_SAMPLE, 'train', '10_left.jpeg'), OPTS);
    const r = await transformStages(join(KAGGLE_SAMPLE, 'train', '10_right.jpeg'), OPTS);
    expect(r.circle).toBeDefined();
    expect(Math.abs(r.circle!.r - l.circle!.r) / l.circle!.r).toBeLessThan(0.03);
  });

  it('Ben Graham: mid grey outside 0.9 of the radius, contrast inside; deterministic', async () => {
    const file = join(KAGGLE_SAMPLE, 'train', '13_left.jpeg');
    const bg = await transformImage(file, { ...OPTS, normalize: 'ben-graham' });
    expect(bg.length).toBe(SIZE * SIZE * 3);
    expect([...bg.subarray(0, 3)]).toEqual([128, 128, 128]);
    const centre = ((SIZE / 2) * SIZE + SIZE / 2) * 3;
    const inside = new Set<number>();
    for (let y = SIZE / 4; y < (3 * SIZE) / 4; y++) for (let x = SIZE / 4; x < (3 * SIZE) / 4; x++) inside.add(bg[(y * SIZE + x) * 3]!);
    expect(inside.size).toBeGreaterThan(20);
    expect(bg[centre]).toBeGreaterThan(60);
    expect(Buffer.from(await transformImage(file, { ...OPTS, normalize: 'ben-graham' })).equals(Buffer.from(bg))).toBe(true);
  });
});

describe('transform details', () => {
  let dir: string, cleanup: () => Promise<void>;
  let jpeg: Buffer;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-transform-'));
    jpeg = await renderFundus({ width: 320, height: 240, grade: 2, eye: 'left', rng: createRng(5) });
  });
  afterAll(() => cleanup());

  it('takes a path or bytes and gives the same tensor', async () => {
    const file = join(dir, 'a.jpeg');
    await sharp(jpeg).toFile(file);
    const fromPath = await transformImage(file, { ...OPTS, size: 64 });
    const fromBytes = await transformImage(await readFile(file), { ...OPTS, size: 64 });
    expect(Buffer.from(fromPath).equals(Buffer.from(fromBytes))).toBe(true);
  });

  it('applies EXIF orientation', async () => {
    // The same picture stored rotated with an orientation tag (6: rotate 90° clockwise to view).
    const stored = await sharp(jpeg).rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(stored).metadata()).width).toBe(240);
    const upright = await transformImage(jpeg, { ...OPTS, size: 64 });
    const oriented = await transformImage(stored, { ...OPTS, size: 64 });
    const unoriented = await transformImage(await sharp(stored).withMetadata({ orientation: 1 }).toBuffer(), { ...OPTS, size: 64 });
    const diff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(diff(upright, oriented)).toBeLessThan(6);
    expect(diff(upright, unoriented)).toBeGreaterThan(3 * diff(upright, oriented));
  });

  it('crop none letterboxes the whole image: black bands above and below a 4:3 image', async () => {
    const img = await transformImage(jpeg, { ...OPTS, size: 64, crop: 'none' });
    const [top, bottom] = brightExtent(img, 64, 'row');
    expect(top).toBeGreaterThanOrEqual(7);
    expect(bottom).toBeLessThanOrEqual(64 - 8);
  });

  it('float32 and float16 hold pixel / 255', async () => {
    const u8 = await transformImage(jpeg, { ...OPTS, size: 32 });
    const f32 = await transformImage(jpeg, { ...OPTS, size: 32, dtype: 'float32' });
    const f16 = await transformImage(jpeg, { ...OPTS, size: 32, dtype: 'float16' });
    expect(f32.length).toBe(u8.length * 4);
    expect(f16.length).toBe(u8.length * 2);
    const v32 = new DataView(f32.buffer, f32.byteOffset, f32.byteLength);
    for (let i = 0; i < u8.length; i += 97) expect(v32.getFloat32(i * 4, true)).toBeCloseTo(u8[i]! / 255, 6);
  });

  it('a corrupt or truncated image is CORRUPT with the decoder\'s reason', async () => {
    for (const bad of [Buffer.from('not an image at all'), jpeg.subarray(0, jpeg.length >> 1)]) {
      const err = await transformImage(bad, OPTS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetinaError);
      expect((err as RetinaError).code).toBe('CORRUPT');
      expect((err as RetinaError).message.length).toBeGreaterThan(20);
    }
  });

  it('a PNG with alpha and a greyscale JPEG both give 3 channels', async () => {
    const png = await sharp(jpeg).ensureAlpha().png().toBuffer();
    expect((await transformImage(png, { ...OPTS, size: 48 })).length).toBe(48 * 48 * 3);
    const grey = await sharp(jpeg).greyscale().jpeg().toBuffer();
    expect((await transformImage(grey, { ...OPTS, size: 48 })).length).toBe(48 * 48 * 3);
  });
});
