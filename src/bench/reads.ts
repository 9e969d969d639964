import { openDataset } from '../../formats/dataset.js';
import { byteLength } from '../../formats/types.js';
import { createFloatConverter } from '../bytes-to-float.js';
import { createRng, shuffleInPlace } from '../rng.js';
import type { Phase } from './bench-progress.js';

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

/** Time one `pass` that reads `count` images; images per second. */
async function rate(count: number, pass: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await pass();
  return count / ((performance.now() - t0) / 1000);
}

/**
 * Measure the three read patterns of `source` in one thread, one pass each: sequential into a uint8 batch
 * buffer, sequential into a float32 batch scaled to [-1, 1] (records read straight into the
 * shared WebAssembly converter of `src/bytes-to-float.ts`, as `bench/read-formats.ts` does), and one
 * record at a time in a seeded shuffled order. Used for the `images` source (each read a decode
 * + transform) and for `--cold` datasets, where `bench/read-formats.ts`'s untimed warm-up pass
 * would fill the page cache before the timing starts.
 */
export async function measureSourceReads(source: RecordSource, opts: {
  batchSize: number; seed: number; hooks: ReadHooks;
}): Promise<ReadRates> {
  const { count, recordBytes } = source;
  const batch = Math.max(1, Math.min(opts.batchSize, count));
  const u8 = new Uint8Array(batch * recordBytes);
  const norm = createFloatConverter(batch * recordBytes);
  const one = new Uint8Array(recordBytes);

  opts.hooks.onPhase('read');
  await opts.hooks.before();
  const uint8 = await rate(count, async () => {
    for (let i = 0; i < count; i++) await source.readInto(i, u8, (i % batch) * recordBytes);
  });

  opts.hooks.onPhase('read-float');
  await opts.hooks.before();
  let sink = 0;
  const float = await rate(count, async () => {
    for (let i = 0; i < count; i += batch) {
      const k = Math.min(batch, count - i);
      for (let j = 0; j < k; j++) await source.readInto(i + j, norm.input, j * recordBytes);
      sink += norm.run(k * recordBytes)[0]!;
    }
  });
  if (Number.isNaN(sink)) throw new Error('float conversion produced NaN');

  opts.hooks.onPhase('read-random');
  await opts.hooks.before();
  const order = shuffleInPlace(Array.from({ length: count }, (_, i) => i), createRng(opts.seed));
  const random = await rate(count, async () => {
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
