import { openDataset } from '../../formats/dataset.js';
import { byteLength } from '../../formats/types.js';
import { createRng, shuffleInPlace } from '../../src/rng.js';
import type { Phase } from './progress.js';

/** Images per second of the three read patterns. */
export interface ReadRates {
  uint8: number;
  float: number;
  random: number;
}

/** Callbacks the read measurements call between patterns. */
export interface ReadHooks {
  /** Called before each pattern (drops the page cache under --cold). */
  before: () => Promise<void>;
  /** Called as each pattern starts (progress). */
  onPhase: (phase: Phase) => void;
}

/**
 * Something read record by record: a dataset, or the JPEGs through the trainer's transform.
 * `readInto` copies record `index`'s uint8 HWC tensor into `target` at `offset`.
 */
export interface RecordSource {
  count: number;
  recordBytes: number;
  readInto(index: number, target: Uint8Array, offset: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Time `pass` (which reads `count` images) repeatedly until at least `minSeconds` have gone by,
 * and return images per second over all passes. One pass of 200 records from the page cache
 * takes milliseconds, too short for a steady figure; with `--cold` only the first pass is cold,
 * so then exactly one pass is timed.
 */
async function rate(count: number, minSeconds: number, pass: () => Promise<void>): Promise<number> {
  let images = 0;
  const t0 = performance.now();
  do {
    await pass();
    images += count;
  } while ((performance.now() - t0) / 1000 < minSeconds);
  return images / ((performance.now() - t0) / 1000);
}

/** uint8 pixels to the network's input range [-1, 1], as training does at load time. */
export type Normalise = (bytes: Uint8Array, out: Float32Array, offset: number) => void;

/**
 * Measure the three read patterns of `source`: sequential into a uint8 batch buffer, sequential
 * into a float32 batch normalised by `normalise`, and one record at a time in a seeded shuffled
 * order. Each in one thread, in the order the patterns are listed.
 */
export async function measureReads(source: RecordSource, opts: {
  batchSize: number; seed: number; minSeconds: number; normalise: Normalise; hooks: ReadHooks;
}): Promise<ReadRates> {
  const { count, recordBytes } = source;
  const batch = Math.max(1, Math.min(opts.batchSize, count));
  const u8 = new Uint8Array(batch * recordBytes);
  const f32 = new Float32Array(batch * recordBytes);
  const one = new Uint8Array(recordBytes);

  opts.hooks.onPhase('read');
  await opts.hooks.before();
  const uint8 = await rate(count, opts.minSeconds, async () => {
    for (let i = 0; i < count; i++) await source.readInto(i, u8, (i % batch) * recordBytes);
  });

  opts.hooks.onPhase('read-float');
  await opts.hooks.before();
  const float = await rate(count, opts.minSeconds, async () => {
    for (let i = 0; i < count; i++) {
      await source.readInto(i, one, 0);
      opts.normalise(one, f32, (i % batch) * recordBytes);
    }
  });

  opts.hooks.onPhase('read-random');
  await opts.hooks.before();
  const order = shuffleInPlace(Array.from({ length: count }, (_, i) => i), createRng(opts.seed));
  const random = await rate(count, opts.minSeconds, async () => {
    for (const i of order) await source.readInto(i, one, 0);
  });
  return { uint8, float, random };
}

/** A dataset folder as a RecordSource (all shards as one; uint8 tensors expected). */
export async function datasetSource(dir: string): Promise<RecordSource> {
  const reader = await openDataset(dir);
  return {
    count: reader.count,
    recordBytes: byteLength(reader.manifest.spec),
    readInto: (i, target, offset) => reader.readInto(i, target, offset),
    close: () => reader.close(),
  };
}
