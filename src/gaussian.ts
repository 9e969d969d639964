/**
 * OpenCV's `GaussianBlur(img, (0, 0), sigma)` for uint8 RGB, as the Kaggle winner's Ben Graham
 * pipeline calls it: the kernel size OpenCV derives from sigma for 8-bit images
 * (round(6 sigma + 1), made odd), the sampled Gaussian normalized to one, and OpenCV's default
 * border, reflect-101 (`gfedcb|abcdefgh|gfedcba`). It runs on the resampler's WebAssembly kernels
 * (`convolveRgb`), with the border reflected into a padded copy first.
 *
 * Why not libvips (`sharp.blur`): it cuts the kernel at about 1.8 sigma and loses two levels on
 * flat areas at 87 and above, so Ben Graham's "neutral" grey came out at 136 instead of 128.
 */
import { convolveRgb } from './resample.js';

const ONE = 1 << 14;

/** OpenCV's kernel size for sigma on 8-bit images: cvRound(sigma * 3 * 2 + 1) | 1. */
export function gaussianKernelSize(sigma: number): number {
  return Math.round(sigma * 6 + 1) | 1;
}

/** The sampled, normalized Gaussian of `size` taps (float), as OpenCV's getGaussianKernel. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) sum += k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** OpenCV's borderInterpolate for BORDER_REFLECT_101 (repeated for borders wider than the image). */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Q14 weights of `kernel`, summing to exactly 16384 (the centre tap absorbs the rounding): a flat image stays exactly flat. */
function fixedPoint(kernel: Float64Array): Int32Array {
  const q = Int32Array.from(kernel, (w) => Math.round(w * ONE));
  q[q.length >> 1]! += ONE - q.reduce((a, b) => a + b, 0);
  return q;
}

/**
 * Gaussian blur of the `width` x `height` RGB image `src` (HWC uint8) with reflect-101 borders:
 * a new array of the same size.
 */
export function gaussianBlur(src: Uint8Array, width: number, height: number, sigma: number): Uint8Array {
  const kernel = gaussianKernel(gaussianKernelSize(sigma), sigma);
  const pad = kernel.length >> 1;
  const pw = width + 2 * pad, ph = height + 2 * pad;
  const padded = new Uint8Array(pw * ph * 3);
  const cols = Int32Array.from({ length: pw }, (_, x) => reflect101(x - pad, width) * 3);
  for (let y = 0; y < ph; y++) {
    const s = reflect101(y - pad, height) * width * 3;
    const d = y * pw * 3;
    for (let x = 0; x < pw; x++) {
      const p = s + cols[x]!, o = d + x * 3;
      padded[o] = src[p]!; padded[o + 1] = src[p + 1]!; padded[o + 2] = src[p + 2]!;
    }
  }
  return convolveRgb(padded, width, height, fixedPoint(kernel));
}
