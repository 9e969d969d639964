import type { DType } from '../formats/types.js';
import { float16Bits } from './float16.js';

/**
 * The JS side of the transform, after libvips has produced the square uint8 image: Ben Graham's
 * local-contrast normalization and the conversion to the stored dtype. Pure functions of bytes,
 * so they run the same in the main thread (`transformImage`) and in piscina workers (preprocess).
 */

/** Values stored for float dtypes: pixel / 255, in [0, 1]. Recorded in the dataset params. */
export const FLOAT_RANGE = '0..1 (pixel / 255)';

/** Fraction of the retina radius kept by the Ben Graham mask (the Kaggle winner's 0.9). */
export const BEN_GRAHAM_MASK = 0.9;

/** Gaussian sigma for Ben Graham's normalization of a square of side `size` whose retina radius is size / 2. */
export function benGrahamSigma(size: number): number {
  return size / 2 / 30;
}

/**
 * `4*img - 4*blur + 128`, clamped to 0-255, then everything outside a centred circle of
 * 0.9 x the radius set to 128 (mid grey), as the Kaggle winner and TFDS `btgraham-300` do.
 * `img` and `blur` are size x size x 3 uint8 HWC; the result is a new array.
 */
export function benGraham(img: Uint8Array, blur: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(img.length);
  const c = (size - 1) / 2;
  const r = (BEN_GRAHAM_MASK * size) / 2;
  const r2 = r * r;
  for (let y = 0; y < size; y++) {
    const dy = y - c;
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const dx = x - c;
      const p = row + x * 3;
      if (dx * dx + dy * dy > r2) {
        out[p] = 128; out[p + 1] = 128; out[p + 2] = 128;
        continue;
      }
      for (let k = 0; k < 3; k++) {
        const v = 4 * img[p + k]! - 4 * blur[p + k]! + 128;
        out[p + k] = v < 0 ? 0 : v > 255 ? 255 : v;
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

/** Ben Graham (when asked) then dtype conversion: everything JS does to one image. */
export function finishTensor(square: Uint8Array, blurred: Uint8Array | undefined, size: number, dtype: DType): Uint8Array {
  const pixels = blurred ? benGraham(square, blurred, size) : square;
  return toDType(pixels, dtype);
}
