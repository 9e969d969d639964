import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { plainJpegSize } from '../../src/jpeg-header.js';

const image = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 90, g: 40, b: 10 } } });

describe('plainJpegSize', () => {
  it('reads the frame size of baseline and progressive JPEGs, agreeing with libvips', async () => {
    for (const progressive of [false, true]) {
      const jpeg = await image(123, 45).jpeg({ progressive }).toBuffer();
      const meta = await sharp(jpeg).metadata();
      expect(plainJpegSize(jpeg)).toEqual({ width: meta.width, height: meta.height });
      expect(plainJpegSize(jpeg)).toEqual({ width: 123, height: 45 });
    }
  });

  it('defers to libvips when EXIF is present (orientation may swap the sides)', async () => {
    const jpeg = await image(40, 30).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(plainJpegSize(jpeg)).toBeUndefined();
  });

  it('gives undefined for other formats and for a header cut before the frame', async () => {
    expect(plainJpegSize(await image(20, 10).png().toBuffer())).toBeUndefined();
    const jpeg = await image(20, 10).jpeg().toBuffer();
    let sof = 2;
    while (!(jpeg[sof] === 0xff && jpeg[sof + 1] === 0xc0)) sof++;
    expect(plainJpegSize(jpeg.subarray(0, sof + 6))).toBeUndefined();
    expect(plainJpegSize(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
  });
});
