import { describe, expect, it } from 'vitest';
import { median, speedupsPerRepeat, spreadOf, summarize } from '../../../src/bench/stats.js';
import { sampleRuns } from './sample-report.js';

describe('median and spread', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('keeps runs in order and reports min and max', () => {
    expect(spreadOf([5, 1, 9])).toEqual({ median: 5, min: 1, max: 9, runs: [5, 1, 9] });
  });
});

describe('speed-up per repeat', () => {
  it('divides images by the format within each repeat, so a slow repeat cancels out', () => {
    const runs = sampleRuns(['images', 'raw'], 3);
    // images 30, 60.1, 30.2 ; raw 10, 20.1, 10.2
    const s = speedupsPerRepeat(runs, 'raw');
    expect(s).toHaveLength(3);
    expect(s[0]).toBeCloseTo(3, 10);
    expect(s[1]).toBeCloseTo(60.1 / 20.1, 10);
    expect(s[2]).toBeCloseTo(30.2 / 10.2, 10);
  });

  it('differs from the ratio of medians when repeats drift', () => {
    const runs = sampleRuns(['images', 'raw'], 2);
    // Make repeat 1 of images slow only: the per-repeat ratios are 3 and 6.
    for (const r of runs) if (r.source === 'images' && r.repeat === 1) r.trainSeconds = 60;
    for (const r of runs) if (r.source === 'raw' && r.repeat === 1) r.trainSeconds = 10;
    expect(speedupsPerRepeat(runs, 'raw')).toEqual([3, 6]);
  });

  it('skips repeats without an images run', () => {
    const runs = sampleRuns(['images', 'raw'], 2).filter((r) => !(r.source === 'images' && r.repeat === 0));
    expect(speedupsPerRepeat(runs, 'raw')).toHaveLength(1);
  });
});

describe('summarize', () => {
  const results = summarize(sampleRuns(['images', 'raw', 'lmdb'], 3), ['images', 'raw', 'lmdb', 'tfjs']);

  it('has one row per source with runs, in the order asked', () => {
    expect(results.map((r) => r.source)).toEqual(['images', 'raw', 'lmdb']);
  });

  it('gives medians with min and max over repeats', () => {
    const raw = results.find((r) => r.source === 'raw')!;
    // raw read: 30000, 15000, 30000
    expect(raw.readImagesPerSecond).toBe(30_000);
    expect(raw.spread.readImagesPerSecond).toMatchObject({ min: 15_000, max: 30_000, runs: [30_000, 15_000, 30_000] });
    // raw train: 10, 20.1, 10.2
    expect(raw.trainSeconds).toBeCloseTo(10.2, 10);
    expect(raw.spread.trainSeconds?.min).toBeCloseTo(10, 10);
    expect(raw.spread.trainSeconds?.max).toBeCloseTo(20.1, 10);
    expect(raw.epochSeconds).toBeCloseTo(10.2 / 3, 10);
    expect(raw.secondsPerEpoch).toBeCloseTo(10.2 / 3, 10);
    expect(raw.spread.secondsPerEpoch?.max).toBeCloseTo(20.1 / 3, 10);
    expect(raw.bytesPerRecord).toBe(53_640_000 / 200);
    expect(raw.preprocessSeconds).toBe(3);
    expect(raw.endToEndSeconds).toBeCloseTo(13.2, 10);
    expect(raw.writeImagesPerSecond).toBe(90);
  });

  it('takes the median of per-repeat speed-ups', () => {
    const lmdb = results.find((r) => r.source === 'lmdb')!;
    const expected = [30 / 12, 60.1 / 24.1, 30.2 / 12.2].sort((a, b) => a - b)[1]!;
    expect(lmdb.speedupVsImages).toBeCloseTo(expected, 12);
  });

  it('gives images a speed-up of exactly 1 and no write figures', () => {
    const images = results.find((r) => r.source === 'images')!;
    expect(images.speedupVsImages).toBe(1);
    expect(images.writeImagesPerSecond).toBeNull();
    expect(images.preprocessSeconds).toBeNull();
    expect(images.spread.writeImagesPerSecond).toBeUndefined();
  });

  it('leaves speed-up null when images was not run', () => {
    const [raw] = summarize(sampleRuns(['raw'], 2), ['raw']);
    expect(raw!.speedupVsImages).toBeNull();
  });
});
