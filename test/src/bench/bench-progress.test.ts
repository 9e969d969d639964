import { describe, expect, it } from 'vitest';
import { EtaTracker, ProgressReporter, formatDuration, progressLine, type Step } from '../../../src/bench/bench-progress.js';

const plan = (repeats: number): Step[] => {
  const steps: Step[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const source of ['images', 'raw']) {
      for (const phase of ['read', 'train'] as const) steps.push({ repeat, source, phase });
    }
  }
  return steps;
};

describe('EtaTracker', () => {
  it('has no estimate before a step has finished', () => {
    expect(new EtaTracker(plan(2)).etaSeconds()).toBeUndefined();
  });

  it('predicts later repeats from the same source and phase', () => {
    const steps = plan(2);
    const t = new EtaTracker(steps);
    const took = [1, 10, 2, 20];
    steps.slice(0, 4).forEach((s, i) => t.finish(s, took[i]!));
    // Repeat 2 will take what repeat 1 took: 1 + 10 + 2 + 20.
    expect(t.etaSeconds()).toBe(33);
    // Time already spent on the running step comes off.
    expect(t.etaSeconds(5)).toBe(28);
  });

  it('falls back to the phase mean, then the overall mean', () => {
    const steps = plan(1);
    const t = new EtaTracker(steps);
    t.finish(steps[0]!, 4); // images/read
    // Left: images/train (no train yet: overall mean 4), raw/read (phase mean 4), raw/train (4).
    expect(t.etaSeconds()).toBe(12);
    t.finish(steps[1]!, 30); // images/train
    // Left: raw/read (read mean 4), raw/train (train mean 30).
    expect(t.etaSeconds()).toBe(34);
  });
});

describe('progress output', () => {
  it('formats durations', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });

  it('names repeat, source, phase, step and ETA', () => {
    const line = progressLine({ repeat: 1, repeats: 3, source: 'lmdb', phase: 'train', done: 22, total: 60, elapsedSeconds: 70, etaSeconds: 125 });
    expect(line).toBe('[repeat 2/3] lmdb · train · step 23/60 · 1m10s elapsed · ETA 2m05s');
  });

  it('writes one line per step without a terminal, and rewrites in place on one', async () => {
    const lines: string[] = [];
    const p = new ProgressReporter(plan(1), 1, { isTTY: false, write: (s) => lines.push(s) });
    p.begin({ repeat: 0, source: 'images', phase: 'read' });
    p.begin({ repeat: 0, source: 'images', phase: 'train' });
    p.close();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[repeat 1\/1\] images · read · step 1\/4 .*ETA …\n$/);
    expect(lines[1]).toMatch(/images · train · step 2\/4 .*ETA \d+ s\n$/);

    const slow: string[] = [];
    const h = new ProgressReporter(plan(1), 1, { isTTY: false, write: (s) => slow.push(s) }, 0.05);
    h.begin({ repeat: 0, source: 'raw', phase: 'train' });
    await new Promise((r) => setTimeout(r, 180));
    h.close();
    // The step's line, then heartbeats while it runs.
    expect(slow.length).toBeGreaterThanOrEqual(2);
    expect(slow.every((l) => l.includes('raw · train'))).toBe(true);

    const tty: string[] = [];
    const q = new ProgressReporter(plan(1), 1, { isTTY: true, write: (s) => tty.push(s) });
    q.begin({ repeat: 0, source: 'raw', phase: 'read' });
    q.close();
    expect(tty[0]).toMatch(/^\r\x1b\[2K\[repeat 1\/1\] raw · read/);
    expect(tty.at(-1)).toBe('\r\x1b[2K');
  });
});
