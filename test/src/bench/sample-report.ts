import { summarize } from '../../../src/bench/stats.js';
import { cacheStatement } from '../../../src/bench/page-cache.js';
import { PRESETS } from '../../../src/bench/options.js';
import type { BenchReport, MachineInfo, RunMeasurement } from '../../../src/bench/bench-types.js';

/** A hand-made machine description (report code is pure: it must not matter where tests run). */
export const MACHINE: MachineInfo = {
  cpuModel: 'Test CPU 9000 <&>',
  cpus: 2,
  cpusSource: 'affinity',
  memoryBytes: 24 * 2 ** 30,
  node: 'v20.20.2',
  platform: 'linux-x64',
  kernel: '6.1.0',
  backend: 'wasm',
  loadAverage: 1.5,
  hostname: 'testhost',
};

/**
 * Hand-made runs: for each source and repeat, figures chosen so that medians, ranges and
 * per-repeat ratios are known exactly (see the tests).
 */
export function sampleRuns(sources = ['images', 'raw', 'lmdb'], repeats = 3): RunMeasurement[] {
  const runs: RunMeasurement[] = [];
  const base: Record<string, { read: number; train: number; bytes: number }> = {
    images: { read: 40, train: 30, bytes: 20_000_000 },
    raw: { read: 30_000, train: 10, bytes: 53_640_000 },
    lmdb: { read: 25_000, train: 12, bytes: 55_000_000 },
    msgpack: { read: 9_000, train: 11, bytes: 54_000_000 },
  };
  for (let repeat = 0; repeat < repeats; repeat++) {
    // Repeat 1 is twice as slow for everyone: per-repeat ratios must not change.
    const slow = repeat === 1 ? 2 : 1;
    for (const source of sources) {
      const b = base[source] ?? { read: 1000, train: 20, bytes: 1e6 };
      const train = b.train * slow + repeat * 0.1;
      runs.push({
        source,
        repeat,
        preprocessSeconds: source === 'images' ? null : 2 + repeat,
        writeImagesPerSecond: source === 'images' ? null : 100 - repeat * 10,
        bytesOnDisk: b.bytes,
        records: 200,
        readImagesPerSecond: b.read / slow,
        readFloatImagesPerSecond: b.read / 4 / slow,
        randomReadImagesPerSecond: b.read / 2 / slow,
        trainSeconds: train,
        epochSeconds: [train / 3, train / 3, train / 3],
        residentBeforeRead: 1,
        valAccuracy: 0.7,
        valKappa: 0.4,
      });
    }
  }
  return runs;
}

/** A full report from sampleRuns through the real summarize(). */
export function sampleReport(opts: { preset?: boolean; sources?: string[]; repeats?: number } = {}): BenchReport {
  const sources = opts.sources ?? ['images', 'raw', 'lmdb'];
  const runs = sampleRuns(sources, opts.repeats ?? 3);
  return {
    kind: 'retina-bench-formats',
    version: 1,
    createdAt: '2026-11-26T09:00:00.000Z',
    machine: MACHINE,
    config: {
      preset: opts.preset ? 'seed-exp3' : null,
      data: 'synthetic',
      images: '/tmp/x/train',
      labels: '/tmp/x/trainLabels.csv',
      count: 200,
      formats: sources.filter((s) => s !== 'images'),
      model: 'small-cnn',
      epochs: 3,
      batchSize: 32,
      repeat: opts.repeats ?? 3,
      size: 299,
      seed: 1,
      cold: false,
      cacheFeatures: false,
      valFraction: 0.1,
      split: { train: 178, val: 22 },
      limit: null,
      skipInvalid: false,
      rejected: 0,
    },
    cache: { mode: 'warm', statement: cacheStatement(false, true), probed: true },
    results: summarize(runs, sources),
    runs,
    published: opts.preset ? PRESETS['seed-exp3'].published : null,
    outputs: null,
    totalSeconds: 123,
  };
}
