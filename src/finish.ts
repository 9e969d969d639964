import type { DType } from '../formats/types.js';
import { float16Bits } from './float16.js';
import { gaussianBlur } from './gaussian.js';

/**
 * The last steps of the transform, on the square uint8 image: Ben Graham's local-contrast
 * normalization and the conversion to the stored dtype. Pure functions of bytes, so they run the
 * same in the main thread (`transformImage`) and in piscina workers (preprocess).
 */

/** Values stored for float dtypes: pixel / 255, in [0, 1]. Recorded in the dataset params. */
export const FLOAT_RANGE = '0..1 (pixel / 255)';

/** Fraction of the retina radius kept by the Ben Graham mask (the Kaggle winner's 0.9). */
export const BEN_GRAHAM_MASK = 0.9;

/** The Kaggle winner's blur: sigma = retina radius / 30 (his scale 300 px, sigma 10). */
export function benGrahamSigma(radius: number): number {
  return radius / 30;
}

/**
 * Where Ben Graham's normalization applies in a square, in its pixel indices: the retina's circle
 * (centre and radius; the mask keeps 0.9 of it, the blur's sigma is radius / 30) and the part of
 * the square the photograph covers (`rect`, end-exclusive; the rest is padding, not image).
 */
export interface BenGrahamRegion {
  cx: number;
  cy: number;
  r: number;
  rect: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * The Kaggle winner's `cv2.addWeighted(img, 4, cv2.GaussianBlur(img, (0, 0), r / 30), -4, 128)`
 * on the photograph's part of the square (`region.rect`, blurred with OpenCV's reflect-101 border
 * at its edges, so a camera's clip line or the letterbox makes no band), then mid grey (128)
 * outside 0.9 of the circle and outside the photograph. `img` is size x size x 3 uint8 HWC; the
 * result is a new array.
 */
export function benGraham(img: Uint8Array, size: number, region: BenGrahamRegion): Uint8Array {
  const out = new Uint8Array(img.length).fill(128);
  const { x0, y0, x1, y1 } = region.rect;
  const w = x1 - x0, h = y1 - y0;
  if (w <= 0 || h <= 0) return out;
  const part = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) part.set(img.subarray(((y0 + y) * size + x0) * 3, ((y0 + y) * size + x1) * 3), y * w * 3);
  const blur = gaussianBlur(part, w, h, benGrahamSigma(region.r));
  const m = BEN_GRAHAM_MASK * region.r, m2 = m * m;
  for (let y = 0; y < h; y++) {
    const dy = y0 + y - region.cy;
    for (let x = 0; x < w; x++) {
      const dx = x0 + x - region.cx;
      if (dx * dx + dy * dy > m2) continue;
      const p = (y * w + x) * 3, o = ((y0 + y) * size + x0 + x) * 3;
      for (let k = 0; k < 3; k++) {
        const v = 4 * part[p + k]! - 4 * blur[p + k]! + 128;
        out[o + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

let f32Table: Float32Array | undefined;
let f16Table: Uint16Array | undefined;

/**
 * uint8 pixels as little-endian bytes of `dtype` (float values are pixel / 255). A 256-entry
 * table makes the conversion one lookup per element; uint8 is returned as is.
 */
export function toDType(pixels: Uint8Array, dtype: DType): Uint8Array {
  if (dtype === 'uint8') return pixels;
  if (dtype === 'float32') {
    f32Table ??= Float32Array.from({ length: 256 }, (_, i) => i / 255);
    const out = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = f32Table[pixels[i]!]!;
    return littleEndianBytes(out);
  }
  f16Table ??= Uint16Array.from({ length: 256 }, (_, i) => float16Bits(i / 255));
  const out = new Uint16Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = f16Table[pixels[i]!]!;
  return littleEndianBytes(out);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(a: Float32Array | Uint16Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  return bytes;
}

