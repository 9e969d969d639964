import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, confusionMatrix, crossEntropy, quadraticWeightedKappa } from '../../../src/train/metrics.js';

describe('quadraticWeightedKappa', () => {
  it('is 1 for perfect agreement', () => {
    expect(quadraticWeightedKappa([0, 1, 2, 3, 4, 2], [0, 1, 2, 3, 4, 2])).toBeCloseTo(1, 12);
  });

  it('is exactly 0 for the majority-grade predictor', () => {
    expect(quadraticWeightedKappa([0, 0, 0, 1, 2, 4, 3], [0, 0, 0, 0, 0, 0, 0])).toBe(0);
  });

  it('matches a hand computation with 3 classes', () => {
    // actual [0,0,1,2], predicted [0,1,1,1]. O = [[1,1,0],[0,1,0],[0,1,0]];
    // rows (actual) [2,1,1], cols (predicted) [1,3,0], N = 4; w_ij = (i-j)^2/4.
    // Σ w·O = 1·(1/4) + 1·(1/4) = 0.5
    // E = rows ⊗ cols / 4: E01 = 6/4 (w 1/4), E10 = 1/4 (w 1/4), E12 = 0, E20 = 1/4 (w 1), E21 = 3/4 (w 1/4)
    // Σ w·E = 6/16 + 1/16 + 1/4 + 3/16 = 14/16 = 0.875 → κ = 1 − 0.5/0.875 = 3/7
    expect(quadraticWeightedKappa([0, 0, 1, 2], [0, 1, 1, 1], 3)).toBeCloseTo(3 / 7, 12);
  });

  it('matches a hand computation with 5 grades, including a negative value', () => {
    // Reversed grades: actual [0,4], predicted [4,0]. O01... only O[0][4] = O[4][0] = 1, w = 1.
    // Σ w·O = 2; rows [1,0,0,0,1], cols [1,0,0,0,1], E = outer/2 → E00 = E04 = E40 = E44 = 1/2;
    // Σ w·E = 1/2 + 1/2 = 1 → κ = 1 − 2/1 = −1
    expect(quadraticWeightedKappa([0, 4], [4, 0])).toBeCloseTo(-1, 12);
    // actual [0,1,2,3,4], predicted [0,1,2,4,4]: Σ w·O = (3−4)²/16 = 1/16;
    // rows all 1, cols [1,1,1,0,2], N = 5: Σ w·E = (1/5) Σ_i Σ_j w_ij cols_j
    //   = (1/5)(1/16) Σ_i [ (i)²·1 + (i−1)²·1 + (i−2)²·1 + (i−4)²·2 ]
    //   i=0: 0+1+4+32 = 37; i=1: 1+0+1+18 = 20; i=2: 4+1+0+8 = 13; i=3: 9+4+1+2 = 16; i=4: 16+9+4+0 = 29
    //   total 115 → Σ w·E = 115/80 → κ = 1 − (1/16)/(115/80) = 1 − 5/115 = 22/23
    expect(quadraticWeightedKappa([0, 1, 2, 3, 4], [0, 1, 2, 4, 4])).toBeCloseTo(22 / 23, 12);
  });

  it('returns 0 when chance agreement cannot be measured (one grade on both sides)', () => {
    expect(quadraticWeightedKappa([2, 2, 2], [2, 2, 2])).toBe(0);
    expect(quadraticWeightedKappa([], [])).toBe(0);
  });
});

describe('confusion, accuracy, argmax, cross-entropy', () => {
  it('counts confusion[actual][predicted]', () => {
    const m = confusionMatrix([0, 0, 1, 4], [0, 1, 1, 0]);
    expect(m[0]).toEqual([1, 1, 0, 0, 0]);
    expect(m[1]).toEqual([0, 1, 0, 0, 0]);
    expect(m[4]).toEqual([1, 0, 0, 0, 0]);
    expect(accuracy([0, 0, 1, 4], [0, 1, 1, 0])).toBe(0.5);
  });

  it('rejects grades out of range', () => {
    expect(() => confusionMatrix([5], [0])).toThrow(/out of range/);
  });

  it('argmax and cross-entropy over flat probabilities', () => {
    const p = new Float32Array([0.1, 0.7, 0.1, 0.05, 0.05, 0.5, 0.1, 0.1, 0.1, 0.2]);
    expect(Array.from(argmaxRows(p, 5))).toEqual([1, 0]);
    expect(crossEntropy(p, [1, 0], 5)).toBeCloseTo(-(Math.log(0.7) + Math.log(0.5)) / 2, 6);
  });
});
