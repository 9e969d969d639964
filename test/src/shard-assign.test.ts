import { describe, expect, it } from 'vitest';
import { compareIds, parseShard, shardFromSlurm, shardOf, shardRange } from '../../src/shard-assign.js';
import { RetinaError } from '../../src/core/errors.js';

describe('shard assignment', () => {
  it('partitions every list of 0..60 items over 1..70 shards: contiguous, ordered, balanced, complete', () => {
    for (let n = 0; n <= 60; n++) {
      const items = Array.from({ length: n }, (_, i) => i);
      for (let count = 1; count <= 70; count++) {
        const parts = Array.from({ length: count }, (_, i) => shardOf(items, i, count));
        expect(parts.flat()).toEqual(items);
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        if (count > n) expect(sizes.filter((s) => s === 0)).toHaveLength(count - n);
      }
    }
  });

  it('is exact for large counts', () => {
    const { start, end } = shardRange(35126, 15, 16);
    expect(end).toBe(35126);
    expect(start).toBe(Math.floor((15 * 35126) / 16));
  });

  it('refuses indices outside 0..count-1', () => {
    expect(() => shardRange(10, 2, 2)).toThrow(RetinaError);
    expect(() => shardRange(10, -1, 2)).toThrow(RetinaError);
    expect(() => shardRange(10, 0, 0)).toThrow(RetinaError);
  });

  it('parses --shard INDEX/COUNT', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    for (const bad of ['8/8', '1', 'a/b', '-1/2', '1/0']) expect(() => parseShard(bad)).toThrow(RetinaError);
  });

  it('maps Slurm array tasks to shards, also for arrays not starting at 0', () => {
    expect(shardFromSlurm({})).toBeUndefined();
    expect(() => shardFromSlurm({ SLURM_ARRAY_TASK_ID: '3' })).toThrow(RetinaError);
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 0, count: 4 });
    const seen = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => shardFromSlurm({ SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })!.index);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(shardFromSlurm({ SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '14', SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    // Outside the range, or a resubmission of some tasks (--array=2,5): never a silent guess.
    for (const env of [
      { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' },
      { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_MAX: '5', SLURM_ARRAY_TASK_COUNT: '2' },
      { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '2', SLURM_ARRAY_TASK_MAX: '5', SLURM_ARRAY_TASK_COUNT: '2' },
    ]) {
      const err = (() => { try { shardFromSlurm(env); } catch (e) { return e; } })();
      expect(err, JSON.stringify(env)).toBeInstanceOf(RetinaError);
      expect((err as RetinaError).hint).toContain('--shard');
    }
  });

  it('sorts ids with numbers as numbers, deterministically', () => {
    const ids = ['10_left', '9_right', '100_left', '9_left', '10_right', 'abc', '010_left'];
    expect([...ids].sort(compareIds)).toEqual(['9_left', '9_right', '010_left', '10_left', '10_right', '100_left', 'abc']);
    expect(compareIds('a', 'a')).toBe(0);
  });
});
