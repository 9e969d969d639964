import { describe, expect, it } from 'vitest';
import { arrayDirective, compressRanges, parseOnly, planArray, taskIdOf } from '../../slurm/array-spec.js';

describe('compressRanges', () => {
  it('compresses runs and keeps singletons', () => {
    expect(compressRanges([])).toBe('');
    expect(compressRanges([0])).toBe('0');
    expect(compressRanges([0, 1, 2, 3])).toBe('0-3');
    expect(compressRanges([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
    expect(compressRanges([2, 5])).toBe('2,5');
  });

  it('expands back to the same set, for every subset of 0..9', () => {
    for (let mask = 1; mask < 1 << 10; mask++) {
      const values = Array.from({ length: 10 }, (_, i) => i).filter((i) => mask & (1 << i));
      const back = compressRanges(values).split(',').flatMap((p) => {
        const [lo, hi = lo] = p.split('-').map(Number) as [number, number?];
        return Array.from({ length: (hi as number) - lo + 1 }, (_, k) => lo + k);
      });
      expect(back).toEqual(values);
    }
  });
});

describe('planArray / arrayDirective', () => {
  it('renders 0-(N-1), with throttle', () => {
    expect(arrayDirective(planArray({ tasks: 4 }))).toBe('0-3');
    expect(arrayDirective(planArray({ tasks: 1 }))).toBe('0');
    expect(arrayDirective(planArray({ tasks: 16, throttle: 4 }))).toBe('0-15%4');
  });

  it('shifts task ids by the offset (arrays not starting at 0)', () => {
    const plan = planArray({ tasks: 4, offset: 1 });
    expect(arrayDirective(plan)).toBe('1-4');
    expect(plan.shards).toEqual([0, 1, 2, 3]);
    expect(taskIdOf(plan, 0)).toBe(1);
    expect(arrayDirective(planArray({ tasks: 8, offset: 100, only: [2, 5, 6] }))).toBe('102,105-106');
  });

  it('renders only the --only shards, sorted and unique', () => {
    const plan = planArray({ tasks: 8, only: [5, 2, 5] });
    expect(plan.shards).toEqual([2, 5]);
    expect(arrayDirective(plan)).toBe('2,5');
    expect(arrayDirective(planArray({ tasks: 8, only: [2, 5], throttle: 1 }))).toBe('2,5%1');
  });

  it('refuses bad plans with the flag named', () => {
    expect(() => planArray({ tasks: 0 })).toThrow(/--tasks/);
    expect(() => planArray({ tasks: 2.5 })).toThrow(/--tasks/);
    expect(() => planArray({ tasks: 4, offset: -1 })).toThrow(/--array-offset/);
    expect(() => planArray({ tasks: 4, throttle: 0 })).toThrow(/--throttle/);
    expect(() => planArray({ tasks: 4, only: [4] })).toThrow(/--only/);
    expect(() => planArray({ tasks: 4, only: [] })).toThrow(/--only/);
  });
});

describe('parseOnly', () => {
  it('reads lists and ranges', () => {
    expect(parseOnly('2,5', 8)).toEqual([2, 5]);
    expect(parseOnly('4-6, 1', 8)).toEqual([1, 4, 5, 6]);
    expect(parseOnly('3,3,3', 8)).toEqual([3]);
  });
  it('refuses shards outside the dataset and malformed text', () => {
    expect(() => parseOnly('8', 8)).toThrow(/from 0 to 7/);
    expect(() => parseOnly('5-2', 8)).toThrow(/low-high/);
    expect(() => parseOnly('a', 8)).toThrow(/--only/);
    expect(() => parseOnly('', 8)).toThrow(/--only/);
  });
});
