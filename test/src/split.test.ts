import { describe, expect, it } from 'vitest';
import { assignSplits, patientOf } from '../../src/split.js';
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
});
