import { describe, expect, it } from 'vitest';
import { progressBar } from '../../../src/train/train-progress.js';

describe('training progress', () => {
  it('in a log (not a TTY) prints whole lines: the first update, then at most every interval, and the last', () => {
    const out: string[] = [];
    const bar = progressBar(true, { isTTY: false, write: (s) => out.push(s) }, 3600);
    for (let i = 1; i <= 50; i++) bar.update(i, 50, 'epoch 1/2');
    bar.clear();
    expect(out).toEqual([`epoch 1/2 [${'.'.repeat(24)}] 1/50\n`, `epoch 1/2 [${'#'.repeat(24)}] 50/50\n`]);
    expect(out.join('')).not.toContain('\r');
  });

  it('on a terminal redraws one line', () => {
    const out: string[] = [];
    const bar = progressBar(true, { isTTY: true, write: (s) => out.push(s) });
    bar.update(1, 2, 'features');
    bar.clear();
    expect(out[0]).toMatch(/^\rfeatures \[#{12}\.{12}\] 1\/2/);
    expect(out.at(-1)).toBe('\r\x1b[K');
  });
});
