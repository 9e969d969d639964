import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gaussianBlur, gaussianKernel, gaussianKernelSize, reflect101 } from '../../src/gaussian.js';
import { convolveRgb, convolveRgbJs, resampleSimdAvailable } from '../../src/resample.js';
import { createRng } from '../../src/rng.js';

const PYTHON = '/usr/bin/python3';
const hasCv2 = process.env['CI'] === 'true' || spawnSync(PYTHON, ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0;
if (!hasCv2) console.warn(`gaussian.test: SKIPPING the OpenCV comparison: ${PYTHON} cannot import cv2 (apt-get install -y python3-opencv)`);

describe('gaussianBlur (OpenCV GaussianBlur, ksize (0, 0), reflect-101)', () => {
  it('sizes the kernel as OpenCV does for 8-bit images: round(6 sigma + 1), odd', () => {
    expect([0.5, 1, 2, 299 / 60, 5, 10].map(gaussianKernelSize)).toEqual([5, 7, 13, 31, 31, 61]);
    const k = gaussianKernel(31, 299 / 60);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[15]! / k[0]!).toBeCloseTo(Math.exp(225 / (2 * (299 / 60) ** 2)), 6);
  });

  it('reflects like OpenCV\'s BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba), also for borders wider than the image', () => {
    expect([-3, -2, -1, 0, 7, 8, 9, 10].map((i) => reflect101(i, 8))).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
    expect([-5, -1, 3, 4, 9].map((i) => reflect101(i, 3))).toEqual([1, 1, 1, 0, 1]);
    expect(reflect101(-4, 1)).toBe(0);
  });

  it('the WebAssembly convolution gives the same bytes as its JS reference (odd sizes, short and long kernels)', () => {
    expect(resampleSimdAvailable()).toBe(true);
    const rng = createRng(7);
    for (const [w, h, sigma] of [[1, 1, 1], [5, 3, 0.8], [37, 23, 2], [299, 120, 299 / 60], [64, 64, 10]] as const) {
      const k = gaussianKernel(gaussianKernelSize(sigma), sigma);
      const q = Int32Array.from(k, (v) => Math.round(v * 16384));
      q[q.length >> 1]! += 16384 - q.reduce((a, b) => a + b, 0);
      const padded = Uint8Array.from({ length: (w + q.length - 1) * (h + q.length - 1) * 3 }, () => Math.floor(rng.next() * 256));
      expect(Buffer.from(convolveRgb(padded, w, h, q)).equals(Buffer.from(convolveRgbJs(padded, w, h, q))), `${w}x${h} sigma ${sigma}`).toBe(true);
    }
  });

  it('keeps a flat image exactly flat, at every level', () => {
    for (const v of [0, 1, 86, 87, 128, 200, 255]) {
      const out = gaussianBlur(new Uint8Array(37 * 23 * 3).fill(v), 37, 23, 4.98);
      expect(new Set(out), `level ${v}`).toEqual(new Set([v]));
    }
  });

  it.skipIf(!hasCv2)('matches cv2.GaussianBlur(img, (0, 0), sigma) on noise and edges to within one level', () => {
    const w = 61, h = 47, sigma = 299 / 60;
    const rng = createRng(3);
    const img = new Uint8Array(w * h * 3);
    for (let i = 0; i < img.length; i++) img[i] = i % 7 === 0 ? Math.floor(rng.next() * 256) : (Math.floor(i / (w * 3)) > 20 ? 220 : 30);
    const py = spawnSync(PYTHON, ['-c', `import sys, numpy as np, cv2
a = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(${h}, ${w}, 3)
sys.stdout.buffer.write(cv2.GaussianBlur(a, (0, 0), ${sigma}).tobytes())`], { input: Buffer.from(img), maxBuffer: 1 << 22 });
    expect(py.status, String(py.stderr)).toBe(0);
    const ref = new Uint8Array(py.stdout);
    const ours = gaussianBlur(img, w, h, sigma);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
