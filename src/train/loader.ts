import { byteLength } from '../../formats/types.js';
import { mapLimit } from '../core/concurrency.js';
import { toNetworkInput } from '../bytes-to-float.js';
import type { SampleSource } from './sources.js';

/** One batch ready for the network. */
export interface Batch {
  /** [size, H, W, C] in [-1, 1], flat. */
  x: Float32Array;
  labels: Int32Array;
  indices: number[];
  size: number;
}

/** Read records `indices` into one float batch in the network's input range. */
export async function readBatch(source: SampleSource, indices: number[]): Promise<Batch> {
  const per = byteLength(source.spec);
  const elements = source.spec.shape.reduce((a, b) => a * b, 1);
  const raw = new Uint8Array(per * indices.length);
  const labels = new Int32Array(indices.length);
  await mapLimit(indices, source.readConcurrency, async (index, i) => {
    await source.readInto(index, raw, i * per);
    labels[i] = source.meta(index).label;
  });
  const x = new Float32Array(elements * indices.length);
  toNetworkInput(raw, source.spec.dtype, x, 0); // the whole batch at once (elementwise map)
  return { x, labels, indices, size: indices.length };
}

/**
 * Batches of `order` (already shuffled by the caller) with `prefetch` batches read ahead while the
 * caller computes, so reading overlaps compute. Memory is bounded by (prefetch + 1) batches. A read
 * error surfaces when its batch is reached.
 */
export async function* batches(source: SampleSource, order: readonly number[], batchSize: number, prefetch = 2): AsyncGenerator<Batch> {
  const starts: number[] = [];
  for (let s = 0; s < order.length; s += batchSize) starts.push(s);
  const pending: Promise<Batch>[] = [];
  const launch = (k: number) => {
    const s = starts[k]!;
    const p = readBatch(source, order.slice(s, s + batchSize));
    // Attach a handler now so an error in a batch read ahead is not an unhandled rejection.
    p.catch(() => undefined);
    pending.push(p);
  };
  let next = 0;
  while (next < starts.length && pending.length <= prefetch) launch(next++);
  while (pending.length > 0) {
    const batch = await pending.shift()!;
    if (next < starts.length) launch(next++);
    yield batch;
  }
}
