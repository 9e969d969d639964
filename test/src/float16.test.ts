import { describe, expect, it } from 'vitest';
import { float16Bits, float16Value } from '../../src/float16.js';
import { benGraham, toDType } from '../../src/finish.js';

describe('float16', () => {
  it('converts known values exactly', () => {
    expect(float16Bits(0)).toBe(0);
    expect(float16Bits(-0)).toBe(0x8000);
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(0.5)).toBe(0x3800);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(1e6)).toBe(0x7c00);
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(float16Bits(2 ** -24)).toBe(1);
  });

  it('rounds every pixel / 255 to the nearest half', () => {
    for (let i = 0; i < 256; i++) {
      const v = i / 255;
      const got = float16Value(float16Bits(v));
      // Nearest: the neighbours are no closer.
      const b = float16Bits(v);
      for (const n of [b - 1, b + 1]) if (n >= 0) expect(Math.abs(float16Value(n) - v)).toBeGreaterThanOrEqual(Math.abs(got - v));
    }
  });
});

describe('toDType and benGraham', () => {
  it('float32 is pixel / 255 little-endian, uint8 is untouched', () => {
    const px = new Uint8Array([0, 51, 255]);
    expect(toDType(px, 'uint8')).toBe(px);
    const f = toDType(px, 'float32');
    const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
    expect([0, 1, 2].map((i) => view.getFloat32(i * 4, true))).toEqual([0, Math.fround(0.2), 1]);
    const h = toDType(px, 'float16');
    const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    expect(hv.getUint16(2, true)).toBe(float16Bits(0.2));
  });

  it('benGraham is 4*img - 4*blur + 128 inside 0.9 of the circle and the photograph, 128 elsewhere', () => {
    const size = 40;
    const region = { cx: 19.5, cy: 19.5, r: 20, rect: { x0: 0, y0: 5, x1: 40, y1: 35 } };
    // Flat: the blur equals the image, so 128 everywhere.
    expect(new Set(benGraham(new Uint8Array(size * size * 3).fill(200), size, region))).toEqual(new Set([128]));
    // A bright dot: 4 * (255 - its blur) + 128 saturates; its dark surround goes below 128.
    const img = new Uint8Array(size * size * 3).fill(60);
    img.set([255, 255, 255], (20 * size + 20) * 3);
    const out = benGraham(img, size, region);
    const at = (x: number, y: number) => out[(y * size + x) * 3]!;
    expect(at(20, 20)).toBe(255);
    expect(at(21, 20)).toBeLessThan(128);
    expect(at(0, 0)).toBe(128); // outside the mask
    expect(at(20, 2)).toBe(128); // outside the photograph (rect)
  });
});
