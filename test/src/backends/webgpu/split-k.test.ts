import { describe, expect, it } from 'vitest';
import { chooseSplits, largestDivisorAtMost } from '../../../../src/backends/webgpu/split-k.js';

describe('largestDivisorAtMost', () => {
  it('finds the largest divisor within the bound', () => {
    expect(largestDivisorAtMost(691_488, 64)).toBe(63); // 32 x 147 x 147 = 2^5 3^2 7^4
    expect(largestDivisorAtMost(49, 10)).toBe(7);
    expect(largestDivisorAtMost(97, 50)).toBe(1); // prime
    expect(largestDivisorAtMost(12, 100)).toBe(12);
    expect(largestDivisorAtMost(12, 0.5)).toBe(1);
    for (let n = 1; n < 300; n++) {
      for (const b of [1, 2, 7, 30]) {
        const d = largestDivisorAtMost(n, b);
        expect(n % d).toBe(0);
        expect(d).toBeLessThanOrEqual(Math.max(1, b));
        for (let e = d + 1; e <= Math.min(n, b); e++) expect(n % e).not.toBe(0);
      }
    }
  });

  it('rejects a non-positive size', () => {
    expect(() => largestDivisorAtMost(0, 4)).toThrow(RangeError);
  });
});

describe('chooseSplits', () => {
  const limits = { targetWorkgroups: 1024, minInner: 256, maxPartialBytes: 64 * 1024 * 1024 };
  it('splits a thin 64x64 product over 32 x 147 x 147 pixels into many slices', () => {
    const s = chooseSplits(64, 64, 32 * 147 * 147, limits);
    expect(s).toBeGreaterThan(64);
    expect(s).toBeLessThanOrEqual(256);
    expect((32 * 147 * 147) % s).toBe(0);
  });
  it('keeps a product that already fills the GPU whole', () => {
    expect(chooseSplits(2048, 2048, 32 * 64, limits)).toBe(1);
  });
  it('never makes slices shorter than minInner or partial sums over the memory bound', () => {
    expect(chooseSplits(64, 64, 300, limits)).toBe(1);
    const s = chooseSplits(3 * 3 * 288, 384, 32 * 17 * 17, limits);
    expect(s * 3 * 3 * 288 * 384 * 4).toBeLessThanOrEqual(limits.maxPartialBytes);
    expect((32 * 17 * 17) / s).toBeGreaterThanOrEqual(256);
  });
});
