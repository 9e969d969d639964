import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createDeflate, crc32 } from 'node:zlib';

/**
 * A PNG (8-bit RGB, not interlaced) written band by band: the caller yields horizontal bands of
 * rows, each deflated into the file as it comes, so a sheet of any height costs one band of
 * memory. sharp cannot do this: it buffers a streamed input whole before encoding (a 5,000-tile
 * sheet of 299-pixel tiles is 1.3 GB of raw pixels).
 */

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** A band: `rows` rows of `width` RGB pixels (rows x width x 3 bytes). */
export interface RgbBand { data: Uint8Array; rows: number }

/**
 * Write `bands` (top to bottom, `height` rows in all, each `width` pixels wide) as a PNG to `file`.
 * Throws when the bands do not add up to `height` rows (a PNG shorter than its header says is a
 * damaged file, never written silently).
 */
export async function writePngBands(file: string, width: number, height: number, bands: AsyncIterable<RgbBand>, level = 4): Promise<void> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`PNG size ${width} x ${height} is out of range`);
  }
  const stride = width * 3;
  async function* scanlines(): AsyncGenerator<Uint8Array> {
    let written = 0;
    for await (const band of bands) {
      if (band.data.length !== band.rows * stride) throw new Error(`a PNG band of ${band.rows} rows has ${band.data.length} bytes, expected ${band.rows * stride}`);
      // Filter type 0 (none) before each row: tiles of photographs gain little from PNG's
      // predictors, and the deflate is the sheet's main cost.
      const out = new Uint8Array(band.rows * (stride + 1));
      for (let r = 0; r < band.rows; r++) out.set(band.data.subarray(r * stride, (r + 1) * stride), r * (stride + 1) + 1);
      written += band.rows;
      if (written > height) throw new Error(`PNG bands give more than the ${height} rows announced`);
      yield out;
    }
    if (written !== height) throw new Error(`PNG bands gave ${written} rows, ${height} announced`);
  }
  async function* framed(deflated: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, width); v.setUint32(4, height);
    ihdr[8] = 8; ihdr[9] = 2; // 8 bits, truecolour; compression, filter, interlace 0
    yield SIGNATURE;
    yield chunk('IHDR', ihdr);
    for await (const d of deflated) yield chunk('IDAT', d);
    yield chunk('IEND', new Uint8Array(0));
  }
  await pipeline(scanlines, createDeflate({ level }), framed, createWriteStream(file));
}
