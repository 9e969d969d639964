import { describe, expect, it } from 'vitest';
import { sourceOrder, studyPlan, timestampName } from '../../../src/bench/study.js';

describe('study plan', () => {
  it('rotates the sources by one per repeat', () => {
    const s = ['images', 'raw', 'lmdb'];
    expect(sourceOrder(s, 0)).toEqual(['images', 'raw', 'lmdb']);
    expect(sourceOrder(s, 1)).toEqual(['raw', 'lmdb', 'images']);
    expect(sourceOrder(s, 2)).toEqual(['lmdb', 'images', 'raw']);
    expect(sourceOrder(s, 3)).toEqual(s);
  });

  it('lists every phase of every source in every repeat', () => {
    const plan = studyPlan(['raw', 'lmdb'], 2);
    // Formats: preprocess, 3 reads, train (5); images: 3 reads, train (4).
    expect(plan).toHaveLength(2 * (5 + 5 + 4));
    expect(plan.filter((s) => s.phase === 'preprocess').map((s) => s.source)).toEqual(['raw', 'lmdb', 'raw', 'lmdb']);
    expect(plan.filter((s) => s.phase === 'train' && s.repeat === 1).map((s) => s.source)).toEqual(['raw', 'lmdb', 'images']);
  });

  it('names report folders by UTC time, safely', () => {
    expect(timestampName(new Date('2026-11-26T09:05:03.123Z'))).toBe('2026-11-26T09-05-03Z');
  });
});
