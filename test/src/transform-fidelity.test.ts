/**
 * Fidelity of the transform against independent references computed here with Debian's
 * python3-pil and python3-opencv (test/helpers/pixel_reference.py): PIL's antialiased bilinear
 * resize of the same box from the full-resolution original, a least-squares circle fit of the
 * retina's edge, and the Kaggle winner's OpenCV Ben Graham pipeline on the same crop.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformImage, transformStages, type TransformOptions, type TransformStages } from '../../src/transform.js';
import { RetinaError } from '../../src/core/errors.js';
import { KAGGLE_SAMPLE, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { appAfterFrame } from '../helpers/jpeg-segments.js';
import { rgbTiff } from '../helpers/tiff.js';
import { renderFundus } from '../../fixtures/generate.js';
import { createRng } from '../../src/rng.js';
import { transformInOrder } from '../../src/preprocess/pipeline.js';
import { createFinisher } from '../../src/preprocess/finish-pool.js';
import { kaggleSample, PYTHON, requirement } from '../helpers/requirements.js';

// Skipped with the reason printed on a bare machine; under CI a missing one fails (requirements.ts).
const hasRefs = requirement('python3-pil and python3-opencv', spawnSync(PYTHON, ['-c', 'import PIL, cv2, numpy'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import PIL, cv2 and numpy (apt-get install -y python3-pil python3-opencv)`).available;
const hasSample = kaggleSample().available;

const SIZE = 299;
const OPTS: TransformOptions = { size: SIZE, crop: 'auto', normalize: 'none', dtype: 'uint8' };
const BG: TransformOptions = { ...OPTS, normalize: 'ben-graham' };
const SAMPLE = ['10_left', '10_right', '13_left', '13_right', '15_left', '15_right', '16_left', '16_right', '17_left', '17_right'];
/** The sample images whose circle the camera clipped at top and bottom. */
const CLIPPED = ['16_left', '16_right'];

/** Run reference jobs in one Python process; each job's raw output goes to its `out`. */
function reference(jobs: object[]): Array<Record<string, number | string[]>> {
  const r = spawnSync(PYTHON, [join(ROOT, 'test', 'helpers', 'pixel_reference.py')], { input: JSON.stringify(jobs), maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`pixel_reference.py failed: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as Array<Record<string, number | string[]>>;
}

/** PSNR over the pixels (x, y) of size x size x 3 images for which `where` holds (all by default). */
function psnr(a: Uint8Array, b: Uint8Array, size = SIZE, where: (x: number, y: number) => boolean = () => true): number {
  let s = 0, n = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!where(x, y)) continue;
      for (let k = 0; k < 3; k++) { const p = (y * size + x) * 3 + k; s += (a[p]! - b[p]!) ** 2; n++; }
    }
  }
  return s === 0 ? Infinity : 10 * Math.log10((255 * 255) / (s / n));
}

const fmt = (v: number[]) => v.map((x) => x.toFixed(1)).join(', ');

describe.skipIf(!hasRefs || !hasSample)('transform fidelity on the real Kaggle originals (PIL, OpenCV references)', () => {
  let dir: string, cleanup: () => Promise<void>;
  const plain = new Map<string, TransformStages>(), bg = new Map<string, TransformStages>();
  const pil = new Map<string, Uint8Array>(), winner = new Map<string, Uint8Array>();
  const fits = new Map<string, { cx: number; cy: number; r: number }>();
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-fidelity-'));
    const jobs: object[] = [];
    for (const id of SAMPLE) {
      const file = join(KAGGLE_SAMPLE, 'train', `${id}.jpeg`);
      const s = await transformStages(file, OPTS);
      const b = await transformStages(file, BG);
      plain.set(id, s);
      bg.set(id, b);
      const { cx, cy, r } = s.box;
      jobs.push({ op: 'pil-box', file, box: [cx - r, cy - r, cx + r, cy + r], size: SIZE, out: join(dir, `${id}.pil`) });
      jobs.push({ op: 'circle', file });
      await writeFile(join(dir, `${id}.square`), b.square);
      const g = b.benGraham!;
      jobs.push({ op: 'ben-graham', raw: join(dir, `${id}.square`), size: SIZE, rect: [g.rect.x0, g.rect.y0, g.rect.x1, g.rect.y1], sigma: g.r / 30, mask: [g.cx, g.cy, 0.9 * g.r], out: join(dir, `${id}.bg`) });
    }
    const results = reference(jobs);
    for (const [i, id] of SAMPLE.entries()) {
      pil.set(id, new Uint8Array(await readFile(join(dir, `${id}.pil`))));
      const f = results[3 * i + 1]!;
      fits.set(id, { cx: f['cx'] as number, cy: f['cy'] as number, r: f['r'] as number });
      winner.set(id, new Uint8Array(await readFile(join(dir, `${id}.bg`))));
    }
  }, 240_000);
  afterAll(() => cleanup?.());

  it('every original: PSNR >= 40 dB on the whole square against PIL\'s antialiased bilinear resize of the same box from the full-resolution image', () => {
    const scores = SAMPLE.map((id) => psnr(plain.get(id)!.square, pil.get(id)!));
    console.log(`PSNR vs PIL (dB): ${fmt(scores)}`);
    for (const [i, id] of SAMPLE.entries()) expect(scores[i], id).toBeGreaterThanOrEqual(40);
  });

  it('the crop box is within 0.5 output px of a least-squares circle fit of the full-resolution edge', () => {
    const off: number[] = [];
    for (const id of SAMPLE) {
      const box = plain.get(id)!.box, fit = fits.get(id)!;
      const px = SIZE / (2 * fit.r);
      const worst = Math.max(Math.abs(box.cx - fit.cx), Math.abs(box.cy - fit.cy), Math.abs(box.r - fit.r)) * px;
      off.push(worst);
      console.log(id, fmt([box.cx - fit.cx, box.cy - fit.cy, box.r - fit.r]), px.toFixed(3));
      expect(worst, `${id}: box ${fmt([box.cx, box.cy, box.r])} vs fit ${fmt([fit.cx, fit.cy, fit.r])}`).toBeLessThanOrEqual(0.5);
    }
    console.log(`box vs least-squares fit, worst of centre x, y and radius (output px): ${off.map((v) => v.toFixed(2)).join(', ')}`);
  });

  it('Ben Graham: >= 40 dB against the winner\'s OpenCV pipeline on the same crop', () => {
    const scores = SAMPLE.map((id) => psnr(bg.get(id)!.tensor, winner.get(id)!));
    console.log(`Ben Graham PSNR vs cv2.addWeighted(img, 4, GaussianBlur(img, (0, 0), r / 30), -4, 128) (dB): ${fmt(scores)}`);
    for (const [i, id] of SAMPLE.entries()) expect(scores[i], id).toBeGreaterThanOrEqual(40);
  });

  it('Ben Graham: no band where the camera clipped the circle (>= 30 dB in a +-8 px strip along the clip lines)', () => {
    for (const id of CLIPPED) {
      const g = bg.get(id)!.benGraham!;
      expect(g.rect.y0, `${id} is clipped at the top`).toBeGreaterThan(8);
      const m2 = (0.9 * g.r) ** 2;
      const strip = (x: number, y: number) => (Math.abs(y - g.rect.y0) <= 8 || Math.abs(y - (g.rect.y1 - 1)) <= 8) && (x - g.cx) ** 2 + (y - g.cy) ** 2 <= m2;
      const score = psnr(bg.get(id)!.tensor, winner.get(id)!, SIZE, strip);
      console.log(`${id}: edge strip PSNR ${score.toFixed(1)} dB`);
      expect(score, id).toBeGreaterThanOrEqual(30);
    }
  });
});

describe('Ben Graham on synthetic discs', () => {
  /** A `width` x `height` PNG, black, with a hard-edged disc of `rgb` (no JPEG noise: flat means flat). */
  async function disc(width: number, height: number, cx: number, cy: number, r: number, rgb: [number, number, number]): Promise<Buffer> {
    const px = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) px.set(rgb, (y * width + x) * 3);
    }
    return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
  }

  /** Largest |v - 128| inside 0.9 of the circle, and every pixel outside it (must be 128). */
  function deviation(s: TransformStages, size: number): { inside: number; outsideOk: boolean } {
    const g = s.benGraham!;
    let inside = 0, outsideOk = true;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const d2 = (x - g.cx) ** 2 + (y - g.cy) ** 2;
        for (let k = 0; k < 3; k++) {
          const v = s.tensor[(y * size + x) * 3 + k]!;
          if (d2 <= (0.9 * g.r) ** 2) inside = Math.max(inside, Math.abs(v - 128));
          else if (d2 > (0.9 * g.r + 1) ** 2 && v !== 128) outsideOk = false;
        }
      }
    }
    return { inside, outsideOk };
  }

  it('a flat disc of any level comes out at 128 +- 1 in every channel (the old blur lost 2 levels from 87 up)', async () => {
    for (const rgb of [[16, 16, 16], [60, 30, 20], [86, 87, 88], [87, 128, 200], [140, 90, 40], [255, 250, 240]] as Array<[number, number, number]>) {
      const s = await transformStages(await disc(640, 480, 320, 240, 200, rgb), BG);
      const d = deviation(s, SIZE);
      expect(d.inside, `level ${rgb}`).toBeLessThanOrEqual(1);
      expect(d.outsideOk, `level ${rgb}`).toBe(true);
    }
  });

  it('a disc clipped by the camera at top and bottom: no band along the clip lines (flat stays 128 +- 1 up to the edge)', async () => {
    // Radius 260 in a 640 x 440 frame: 40 px of the circle cut off at the top and the bottom.
    const s = await transformStages(await disc(640, 440, 320, 220, 260, [150, 70, 30]), BG);
    expect(s.benGraham!.rect.y0).toBeGreaterThan(10);
    expect(deviation(s, SIZE).inside).toBeLessThanOrEqual(1);
  });

  it('--crop none with Ben Graham takes the mask and sigma from the detected circle, not the square', async () => {
    // An off-centre disc of radius 150 in a 640 x 480 frame: the square is the whole frame.
    const s = await transformStages(await disc(640, 480, 300, 260, 150, [120, 60, 30]), { ...BG, crop: 'none' });
    const g = s.benGraham!;
    const f = SIZE / 640;
    expect(g.r).toBeCloseTo(150 * f, 0);
    expect(g.cx).toBeCloseTo(300 * f - 0.5, 0);
    expect(g.cy).toBeCloseTo((260 + 80) * f - 0.5, 0);
    expect(deviation(s, SIZE)).toEqual({ inside: expect.any(Number), outsideOk: true });
    expect(deviation(s, SIZE).inside).toBeLessThanOrEqual(1);
    // The letterbox (above and below the 4:3 frame) is not image: mid grey.
    expect([...s.tensor.subarray(0, 3)]).toEqual([128, 128, 128]);
  });
});

describe.skipIf(!hasRefs || !hasSample)('EXIF orientation and the one JPEG/EXIF reader', () => {
  let dir: string, cleanup: () => Promise<void>;
  let files: string[];
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-orient-'));
    // A real original cropped to 2590 x 1941 (not multiples of 8, so each orientation puts the
    // decoder's partial blocks on a different side), stored in the 8 orientations.
    const [r] = reference([{ op: 'orientations', file: join(KAGGLE_SAMPLE, 'train', '13_left.jpeg'), crop: [0, 0, 2590, 1941], prefix: join(dir, 'o') }]);
    files = r!['files'] as string[];
  }, 120_000);
  afterAll(() => cleanup?.());

  it('the 8 EXIF orientations of one photograph give tensors within 40 dB of each other (plain and Ben Graham), and the same stages', async () => {
    for (const opts of [OPTS, BG]) {
      const stages = await Promise.all(files.map((f) => transformStages(f, opts)));
      const t = stages.map((s) => s.tensor);
      // The circle, the box and Ben Graham's region are reported in displayed coordinates: the same for all 8.
      for (const [i, s] of stages.entries()) {
        for (const k of ['cx', 'cy', 'r'] as const) {
          expect(Math.abs(s.box[k] - stages[0]!.box[k]), `orientation ${i + 1} box ${k}`).toBeLessThan(0.5);
          if (s.benGraham) expect(Math.abs(s.benGraham[k] - stages[0]!.benGraham![k]), `orientation ${i + 1} Ben Graham ${k}`).toBeLessThan(0.5);
        }
        if (s.benGraham) expect(s.benGraham.rect, `orientation ${i + 1}`).toEqual(stages[0]!.benGraham!.rect);
      }
      const scores = t.slice(1).map((x) => psnr(x, t[0]!));
      console.log(`orientations 2-8 vs 1, ${opts.normalize}: ${fmt(scores)} dB`);
      for (const [i, s] of scores.entries()) expect(s, `orientation ${i + 2}, ${opts.normalize}`).toBeGreaterThanOrEqual(40);
    }
  });

  it('a JPEG whose EXIF segment comes after the frame header is oriented alike by every path: preprocess, train --source images and predict', async () => {
    const rotated = await readFile(files[5]!); // orientation 6
    const moved = join(dir, 'moved.jpeg');
    await writeFile(moved, appAfterFrame(rotated));
    const expected = await transformImage(files[0]!, OPTS);
    // train --source images and predict call transformImage with the path.
    const viaPath = await transformImage(moved, OPTS);
    // preprocess reads the bytes and decodes them in its pipeline.
    const finisher = createFinisher(0);
    const viaPipeline: Uint8Array[] = [];
    await transformInOrder([{ file: moved }], { transform: OPTS, decodeSlots: 1, window: 1, finisher }, async (o) => { if ('tensor' in o) viaPipeline.push(o.tensor); });
    await finisher.close();
    expect(viaPipeline).toHaveLength(1);
    expect(Buffer.from(viaPipeline[0]!).equals(Buffer.from(viaPath))).toBe(true);
    expect(psnr(viaPath, expected)).toBeGreaterThanOrEqual(40);
    // Unoriented, the same pixels are a different (rotated) picture.
    expect(psnr(await transformImage(await sharp(rotated).withMetadata({ orientation: 1 }).toBuffer(), OPTS), expected)).toBeLessThan(25);
  });
});

describe('TIFF sample formats', () => {
  let dir: string, cleanup: () => Promise<void>;
  let rgb: Uint8Array, expected: Uint8Array;
  const W = 320, H = 240;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('retina-tiff-'));
    const jpeg = await renderFundus({ width: W, height: H, grade: 2, eye: 'left', rng: createRng(9) });
    rgb = new Uint8Array(await sharp(jpeg).removeAlpha().raw().toBuffer());
    expected = await transformImage(await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), { ...OPTS, size: 96 });
  });
  afterAll(() => cleanup?.());

  const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

  it('signed 16-bit (0..32767), float 0..1 and float 0..255 TIFFs give the 8-bit image\'s tensor', async () => {
    const cases: Array<[string, Int16Array | Float32Array]> = [
      ['signed16', Int16Array.from(rgb, (v) => Math.round((v * 32767) / 255))],
      ['float01', Float32Array.from(rgb, (v) => v / 255)],
      ['float255', Float32Array.from(rgb, (v) => v)],
    ];
    for (const [name, samples] of cases) {
      const file = join(dir, `${name}.tiff`);
      await writeFile(file, rgbTiff(W, H, samples));
      expect(maxDiff(await transformImage(file, { ...OPTS, size: 96 }), expected), name).toBeLessThanOrEqual(1);
    }
  });

  it('refuses signed samples below zero and floats beyond 255 with UNSUPPORTED naming the file', async () => {
    const cases: Array<[string, Int16Array | Float32Array, RegExp]> = [
      ['negative', Int16Array.from(rgb, (v) => v * 100 - 1000), /signed 16-bit samples down to -1000/],
      ['hdr', Float32Array.from(rgb, (v) => v * 4), /float samples from 0 to \d{3,}/],
    ];
    for (const [name, samples, message] of cases) {
      const file = join(dir, `${name}.tiff`);
      await writeFile(file, rgbTiff(W, H, samples));
      const err = await transformImage(file, OPTS).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(RetinaError);
      expect((err as RetinaError).code).toBe('UNSUPPORTED');
      expect((err as RetinaError).message).toContain(file);
      expect((err as RetinaError).message).toMatch(message);
      expect((err as RetinaError).hint).toMatch(/skip-invalid/);
    }
  });

  it('retina preprocess refuses such a TIFF with exit 8 (unsupported), naming the file and the samples', async () => {
    await mkdir(join(dir, 'cli', 'train'), { recursive: true });
    const file = join(dir, 'cli', 'train', '1_left.tiff');
    await writeFile(file, rgbTiff(W, H, Int16Array.from(rgb, (v) => v * 100 - 1000)));
    await writeFile(join(dir, 'cli', 'labels.csv'), 'image,level\n1_left,0\n');
    const r = await runCli(['preprocess', '--format', 'raw', '--images', join(dir, 'cli', 'train'), '--labels', join(dir, 'cli', 'labels.csv'), '--out', join(dir, 'cli', 'out'), '--size', '32']);
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/signed 16-bit samples down to -1000/);
  });
});
