import { describe, expect, it } from 'vitest';
import { assignSplits, patientOf, validationCounts } from '../../src/split.js';
import { createRng, shuffleInPlace } from '../../src/rng.js';

function dataset(patients: number, seed: number): { id: string; label: number }[] {
  const rng = createRng(seed);
  const items: { id: string; label: number }[] = [];
  for (let p = 1; p <= patients; p++) {
    const grade = [0, 0, 0, 0, 1, 2, 2, 3, 4][rng.int(0, 8)]!;
    items.push({ id: `${p}_left`, label: grade }, { id: `${p}_right`, label: Math.max(0, grade - rng.int(0, 1)) });
  }
  return items;
}

describe('assignSplits', () => {
  const items = dataset(2000, 7);
  const splits = assignSplits(items, 0.1, 42);

  it('keeps both eyes of a patient in the same split', () => {
    expect(patientOf('123_left')).toBe('123');
    expect(patientOf('abc')).toBe('abc');
    for (const { id } of items) expect(splits.get(id)).toBe(splits.get(`${patientOf(id)}_left`));
  });

  it('is stratified: every grade keeps close to the fraction of its patients in val', () => {
    const worst = new Map<string, number>();
    for (const { id, label } of items) worst.set(patientOf(id), Math.max(worst.get(patientOf(id)) ?? 0, label));
    for (let g = 0; g <= 4; g++) {
      const pts = [...worst].filter(([, w]) => w === g).map(([p]) => p);
      const val = pts.filter((p) => splits.get(`${p}_left`) === 'val').length;
      expect(Math.abs(val - Math.round(0.1 * pts.length))).toBe(0);
    }
  });

  it('is deterministic and ignores row order; the seed changes it', () => {
    const shuffled = shuffleInPlace([...items], createRng(3));
    expect([...assignSplits(shuffled, 0.1, 42)].sort()).toEqual([...splits].sort());
    const other = assignSplits(items, 0.1, 43);
    expect([...other].some(([id, s]) => splits.get(id) !== s)).toBe(true);
  });

  it('fraction 0 puts everything in train', () => {
    expect([...assignSplits(items, 0, 1).values()].every((s) => s === 'train')).toBe(true);
  });

  it('a fraction above 0 never leaves val empty with 2+ patients: the real 10-image Kaggle sample (5 patients) gets 1 at 0.1 and 0.2', () => {
    // The sample's labels: patients 10, 13, 19 worst grade 0; 15 grade 2; 16 grade 4; 17 grade 1.
    const sample = [['10', 0, 0], ['13', 0, 0], ['15', 1, 2], ['16', 4, 4], ['17', 0, 1]] as const;
    const items = sample.flatMap(([p, l, r]) => [{ id: `${p}_left`, label: l }, { id: `${p}_right`, label: r }]);
    for (const fraction of [0.01, 0.1, 0.2]) {
      const s = assignSplits(items, fraction, 0);
      const val = new Set(items.filter(({ id }) => s.get(id) === 'val').map(({ id }) => patientOf(id)));
      expect(val.size, `fraction ${fraction}`).toBe(1);
    }
    expect(validationCounts([1, 1, 1, 1, 1], 0.4)).toEqual([1, 1, 0, 0, 0]); // round(0.4 x 5) = 2
    expect(validationCounts([2, 1, 1, 1], 0.1)).toEqual([1, 0, 0, 0]); // the larger group gives
    expect(validationCounts([1, 1], 0.9)).toEqual([0, 1]); // and train keeps one (the lower grade's)
    expect(validationCounts([1], 0.5)).toEqual([1]); // one patient: nothing to balance
    expect(validationCounts([30, 20], 0.1)).toEqual([3, 2]); // large datasets: per-grade rounding as before
    expect(validationCounts([3, 3], 0)).toEqual([0, 0]);
  });
});
