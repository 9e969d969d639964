import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readJpegHeader } from '../../src/jpeg-header.js';
import { appAfterFrame } from '../helpers/jpeg-segments.js';

const image = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 90, g: 40, b: 10 } } });

describe('readJpegHeader', () => {
  it('reads the stored frame size of baseline and progressive JPEGs, agreeing with libvips', async () => {
    for (const progressive of [false, true]) {
      const jpeg = await image(123, 45).jpeg({ progressive }).toBuffer();
      const meta = await sharp(jpeg).metadata();
      expect(readJpegHeader(jpeg)).toEqual({ width: meta.width, height: meta.height, orientation: 1 });
    }
  });

  it('reads the EXIF orientation, every value, in both byte orders libvips and cameras write', async () => {
    for (let o = 1; o <= 8; o++) {
      const jpeg = await image(40, 30).jpeg().withMetadata({ orientation: o }).toBuffer();
      expect(readJpegHeader(jpeg), `orientation ${o}`).toEqual({ width: 40, height: 30, orientation: o });
      expect((await sharp(jpeg).metadata()).orientation ?? 1).toBe(o);
    }
  });

  it('finds an EXIF segment that comes after the frame header (libvips reads it there too)', async () => {
    const jpeg = await image(40, 30).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const moved = appAfterFrame(jpeg);
    expect(Buffer.from(moved).equals(jpeg)).toBe(false);
    expect(readJpegHeader(moved)).toEqual({ width: 40, height: 30, orientation: 6 });
    expect((await sharp(moved).metadata()).orientation).toBe(6);
  });

  it('gives undefined for other formats and for a header cut before the scan', async () => {
    expect(readJpegHeader(await image(20, 10).png().toBuffer())).toBeUndefined();
    const jpeg = await image(20, 10).jpeg().toBuffer();
    let sof = 2;
    while (!(jpeg[sof] === 0xff && jpeg[sof + 1] === 0xc0)) sof++;
    expect(readJpegHeader(jpeg.subarray(0, sof + 6))).toBeUndefined();
    expect(readJpegHeader(jpeg.subarray(0, sof + 30))).toBeUndefined();
    expect(readJpegHeader(new Uint8Array([0xff, 0xd8]))).toBeUndefined();
  });
});
