import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resample, resampleJs, resampleSimdAvailable, type ResampleJob } from '../../src/resample.js';
import { createRng } from '../../src/rng.js';

function noise(width: number, height: number, seed: number): Uint8Array {
  const rng = createRng(seed);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng.next() * 256);
  return out;
}

function job(src: Uint8Array, width: number, height: number, crop: [number, number, number, number], out: [number, number]): ResampleJob {
  const [left, top, cropWidth, cropHeight] = crop;
  return { src, width, height, x0: left, y0: top, x1: left + cropWidth, y1: top + cropHeight, outWidth: out[0], outHeight: out[1] };
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (s / a.length));
}

describe('resample', () => {
  it('has the WebAssembly SIMD kernels on this Node', () => {
    expect(resampleSimdAvailable()).toBe(true);
  });

  it('gives the same bytes as the JS reference: reductions, enlargements, odd sizes, crops at every edge', () => {
    const cases: Array<[number, number, [number, number, number, number], [number, number]]> = [
      [64, 48, [0, 0, 64, 48], [29, 22]], // reduce ~2.2x
      [64, 48, [5, 3, 40, 40], [40, 40]], // same size
      [64, 48, [10, 0, 44, 48], [99, 108]], // enlarge
      [64, 48, [63, 47, 1, 1], [3, 2]], // one pixel
      [33, 17, [0, 0, 33, 17], [7, 5]], // row length 99: not a multiple of 16
      [32, 16, [16, 0, 16, 16], [16, 5]], // row length 48: a multiple of 16 (tail reads right at the end)
      [300, 200, [20, 0, 260, 200], [299, 230]],
      [1024, 683, [180, 0, 683, 683], [299, 299]],
      [300, 200, [-50.3, -80.7, 401.2, 361.9], [299, 299]], // a clipped circle's box: outside on every side, fractional
      [64, 48, [70, 10, 20, 20], [9, 9]], // entirely outside: black
    ];
    for (const [i, [w, h, crop, out]] of cases.entries()) {
      const j = job(noise(w, h, i + 1), w, h, crop, out);
      const a = resample(j), b = resampleJs(j);
      expect(a.length).toBe(out[0] * out[1] * 3);
      expect(Buffer.from(a).equals(Buffer.from(b)), `case ${i}`).toBe(true);
    }
  });

  it('keeps a flat colour exactly (the weights of every output sum to one)', () => {
    const src = new Uint8Array(90 * 70 * 3);
    for (let p = 0; p < 90 * 70; p++) src.set([255, 7, 128], p * 3);
    for (const out of [[31, 23], [90, 70], [200, 150]] as const) {
      const r = resample({ ...job(src, 90, 70, [0, 0, 90, 70], [out[0], out[1]]), outside: 'renormalize' });
      for (let p = 0; p < out[0] * out[1]; p++) expect([r[p * 3], r[p * 3 + 1], r[p * 3 + 2]]).toEqual([255, 7, 128]);
    }
  });

  it('samples at pixel centres: a linear ramp stays a ramp through a reduction, inside the crop only', () => {
    // value = column inside the crop, so the crop offset must not leak in
    const width = 200, height = 40;
    const src = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) src[(y * width + x) * 3 + 1] = Math.max(0, x - 20);
    // Rows 18-22 of 40: the filter (4 rows each side) stays inside the image, which is not black.
    const out = resample(job(src, width, height, [20, 18, 160, 4], [40, 1]));
    for (let x = 2; x < 38; x++) expect(Math.abs(out[x * 3 + 1]! - ((x + 0.5) * 4 - 0.5))).toBeLessThanOrEqual(1);
  });

  it('matches libvips linear resampling of a real-looking image to within rounding (PSNR > 40 dB)', async () => {
    // A smooth disc with texture, like a retina: sharp renders it, both resample the same crop.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="500" height="400"><rect width="500" height="400" fill="black"/>
      <circle cx="250" cy="200" r="190" fill="#b04020"/><circle cx="300" cy="180" r="30" fill="#f0c080"/>
      <path d="M250 200 L60 120 M250 200 L440 300 M250 200 L200 20" stroke="#601010" stroke-width="6"/></svg>`;
    const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const src = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const ours = resample(job(src, info.width, info.height, [60, 10, 380, 380], [167, 167]));
    const vips = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
      .extract({ left: 60, top: 10, width: 380, height: 380 }).resize(167, 167, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    expect(psnr(ours, new Uint8Array(vips))).toBeGreaterThan(40);
  });

  it('reads black outside the image, and a fractional window is not rounded', () => {
    const src = new Uint8Array(40 * 40 * 3).fill(200);
    // 10 px per output column, half-width 10: columns 0-2 see only the black left of the image,
    // 3 and 4 straddle its edge, 5 and 6 see only the image, 7 and later its right edge.
    const out = resample(job(src, 40, 40, [-40, 10, 100, 20], [10, 2]));
    for (const x of [0, 1, 2]) expect(out[x * 3], `column ${x}`).toBe(0);
    for (const x of [5, 6]) expect(out[x * 3], `column ${x}`).toBe(200);
    expect(out[3 * 3]!).toBeGreaterThan(0);
    expect(out[3 * 3]!).toBeLessThan(100);
    expect(out[4 * 3]!).toBeGreaterThan(100);
    expect(out[4 * 3]!).toBeLessThan(200);
    // A ramp of 4 levels per pixel sampled from a window shifted by 0.25 px reads exactly 1 higher:
    // the window is not rounded to whole pixels.
    const ramp = new Uint8Array(60 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 60; x++) ramp[(y * 60 + x) * 3] = 4 * x;
    const at = (x0: number) => resample({ src: ramp, width: 60, height: 2, x0, x1: x0 + 50, y0: 0, y1: 2, outWidth: 50, outHeight: 2, outside: 'renormalize' });
    const a = at(5), b = at(5.25);
    for (let x = 2; x < 48; x++) expect(b[x * 3]! - a[x * 3]!, `column ${x}`).toBe(1);
  });

  it('renormalizes at the image edge when asked: the edge pixel keeps its level', () => {
    const src = new Uint8Array(40 * 40 * 3).fill(200);
    const out = resample({ ...job(src, 40, 40, [-40, 10, 100, 20], [10, 2]), outside: 'renormalize' });
    for (let x = 3; x < 8; x++) expect(out[x * 3], `column ${x}`).toBe(200);
  });

  it('refuses an empty window or output', () => {
    const src = noise(10, 10, 1);
    expect(() => resample(job(src, 10, 10, [5, 0, 0, 10], [3, 3]))).toThrow(RangeError);
    expect(() => resample(job(src, 10, 10, [0, 0, 10, 10], [0, 3]))).toThrow(RangeError);
  });
});
