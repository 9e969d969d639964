/**
 * Read throughput of a dataset through its reader, and the page-cache ceiling beside it: what
 * `retina bench formats` reports as "read", "float" and "random", and what the development
 * script `bench/read-formats.ts` tabulates. Each figure is the median of `passes` timed passes
 * after one untimed warm-up pass (which also pulls the files into the page cache).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { xxh64Of } from '../core/checksum.js';
import { createFloatConverter } from '../bytes-to-float.js';
import { createRng, shuffleInPlace } from '../rng.js';
import { openDataset } from '../../formats/dataset.js';
import { byteLength } from '../../formats/types.js';

export type ReadMode = 'uint8' | 'float32' | 'random';

export interface MeasureOptions {
  mode: ReadMode;
  /** Records per batch buffer (default 32). */
  batch?: number;
  /** Timed passes over all records (default 3); the median is reported. */
  passes?: number;
  /** Seed of the random-access order (default 1). */
  seed?: number;
}

export interface Measurement {
  /** Median over passes of records / wall-clock seconds. */
  imagesPerSecond: number;
  /** Fastest pass, wall clock: on a shared machine, the least disturbed. */
  bestImagesPerSecond: number;
  /**
   * Median over passes of records / CPU seconds (user + system) of this process: what one core
   * delivers when it is not shared, since time spent waiting for the CPU is not counted.
   */
  cpuImagesPerSecond: number;
  /** Every timed pass, wall-clock images/s. */
  passes: number[];
  records: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Time `pass` (which reads `records` images) once untimed, then `passes` times. */
export async function timed(records: number, passes: number, pass: () => Promise<void>): Promise<Measurement> {
  await pass();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let p = 0; p < passes; p++) {
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    await pass();
    rates.push(records / (Number(process.hrtime.bigint() - t) / 1e9));
    const used = process.cpuUsage(cpu);
    cpuRates.push(records / ((used.user + used.system) / 1e6));
  }
  return { imagesPerSecond: median(rates), bestImagesPerSecond: Math.max(...rates), cpuImagesPerSecond: median(cpuRates), passes: rates, records };
}

/** Read every record of a dataset in batches through its reader (see `ReadMode`). */
export async function measureReads(datasetDir: string, opts: MeasureOptions): Promise<Measurement> {
  const reader = await openDataset(datasetDir);
  try {
    const rb = byteLength(reader.manifest.spec);
    const batch = opts.batch ?? 32;
    const n = reader.count;
    const order = opts.mode === 'random' ? shuffleInPlace([...Array(n).keys()], createRng(opts.seed ?? 1)) : [...Array(n).keys()];
    if (opts.mode === 'float32') {
      const norm = createFloatConverter(batch * rb);
      let sink = 0;
      const m = await timed(n, opts.passes ?? 3, async () => {
        for (let i = 0; i < n; i += batch) {
          const k = Math.min(batch, n - i);
          for (let j = 0; j < k; j++) await reader.readInto(order[i + j]!, norm.input, j * rb);
          sink += norm.run(k * rb)[0]!;
        }
      });
      if (Number.isNaN(sink)) throw new Error('unreachable');
      return m;
    }
    const buf = new Uint8Array(batch * rb);
    return await timed(n, opts.passes ?? 3, async () => {
      for (let i = 0; i < n; i += batch) {
        const k = Math.min(batch, n - i);
        for (let j = 0; j < k; j++) await reader.readInto(order[i + j]!, buf, j * rb);
      }
    });
  } finally {
    await reader.close();
  }
}

/**
 * The ceiling: `records` records of `recordBytes` copied out of the page cache from `file` into a
 * batch buffer with one positioned read each, no checksum, no format. With `checksum`, also the
 * xxh64 of each record (what every reader adds).
 */
export async function measureCeiling(file: string, recordBytes: number, records: number, opts: { batch?: number; passes?: number; offset?: number; checksum?: boolean } = {}): Promise<Measurement> {
  const batch = opts.batch ?? 32;
  const buf = new Uint8Array(batch * recordBytes);
  const fd = openSync(file, 'r');
  let sink = 0n;
  try {
    return await timed(records, opts.passes ?? 3, async () => {
      for (let i = 0; i < records; i++) {
        const at = (i % batch) * recordBytes;
        readSync(fd, buf, at, recordBytes, (opts.offset ?? 0) + i * recordBytes);
        if (opts.checksum) sink ^= xxh64Of(buf.subarray(at, at + recordBytes));
      }
    });
  } finally {
    closeSync(fd);
    if (sink === -1n) console.log('unreachable');
  }
}
