import type { Logger } from '../core/log.js';
import type { FeaturePool, PooledFeatures } from './feature-pool.js';

/** Batches the workers compute ahead of the one the head is training on. */
export const FORWARD_PREFETCH = 2;

/** Consecutive slices of `order` of `size` records (the last may be shorter). */
export function slices(order: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size));
  return out;
}

/**
 * Features of each job (a list of record indices) in order, computed by `pool` with up to
 * `prefetch` later jobs in flight while the caller uses the current one: the workers compute the
 * next batches while the head trains on this one. Memory: at most (prefetch + 1) jobs' features
 * (a 32-image InceptionV3 batch is 256 KiB); the images themselves only ever exist in a worker,
 * FEATURE_CHUNK at a time. An error (or an abort) surfaces when its job is reached.
 */
export async function* pooledBatches(pool: FeaturePool, jobs: readonly number[][], prefetch: number, signal?: AbortSignal): AsyncGenerator<PooledFeatures> {
  const pending: Promise<PooledFeatures>[] = [];
  let next = 0;
  const launch = () => {
    const p = pool.features(jobs[next++]!, signal);
    // Handled now, so a job read ahead that fails (or is aborted) is not an unhandled rejection.
    p.catch(() => undefined);
    pending.push(p);
  };
  while (next < jobs.length && pending.length <= prefetch) launch();
  while (pending.length > 0) {
    const batch = await pending.shift()!;
    if (next < jobs.length) launch();
    yield batch;
  }
}

/**
 * The time split of an epoch whose forward pass runs in the pool, in milliseconds.
 *
 * The main thread only trains the head; what it waits for is the workers, who read (decode,
 * normalize) and then run the backbone. Each wait for a batch is attributed to reading and to the
 * forward pass in proportion of the time the workers spent on each for that batch: `dataMs` is
 * the reading share (it goes to `dataWaitSeconds`), `forwardWaitMs` the forward share (it goes to
 * `computeSeconds`, with the head's own time). Worker times are thread-milliseconds summed over
 * the workers, so they can exceed the epoch's wall time; they are reported as they are too.
 */
export class ForwardClock {
  /** Main-thread time blocked on the pool (= dataMs + forwardWaitMs). */
  waitMs = 0;
  dataMs = 0;
  forwardWaitMs = 0;
  workerReadMs = 0;
  workerForwardMs = 0;

  /** Account one wait of `waitedMs` for a batch the workers computed as `batch` says. */
  add(waitedMs: number, batch: { readMs: number; forwardMs: number }): void {
    const busy = batch.readMs + batch.forwardMs;
    const readShare = busy > 0 ? batch.readMs / busy : 0;
    this.waitMs += waitedMs;
    this.dataMs += waitedMs * readShare;
    this.forwardWaitMs += waitedMs * (1 - readShare);
    this.workerReadMs += batch.readMs;
    this.workerForwardMs += batch.forwardMs;
  }
}

/**
 * One epoch with the backbone in the pool: training batches `train` (each handed as features to
 * `onTrainBatch`, which trains the head), then validation batches `val`, whose features the workers
 * already compute during the last training steps. Returns the validation features (valIdx order)
 * and the epoch's time split. Aborting `signal` rejects the wait in progress at once with ABORTED
 * (or with whatever `onTrainBatch` throws); the caller turns it into ABORTED and closes the pool.
 */
export async function pooledEpoch(o: {
  pool: FeaturePool; train: number[][]; val: number[][]; dim: number; prefetch: number; signal?: AbortSignal | undefined;
  onTrainBatch: (features: Float32Array, indices: number[]) => Promise<void>;
  /** Gets one debug line per batch: the wait and the workers' times. */
  log?: Logger | undefined;
}): Promise<{ valFeatures: Float32Array; clock: ForwardClock }> {
  const clock = new ForwardClock();
  const jobs = [...o.train, ...o.val];
  const valFeatures = new Float32Array(o.val.reduce((a, j) => a + j.length, 0) * o.dim);
  const it = pooledBatches(o.pool, jobs, o.prefetch, o.signal);
  let k = 0, valAt = 0;
  try {
    for (;;) {
      const tw = performance.now();
      const next = await it.next();
      if (next.done) break;
      const waited = performance.now() - tw;
      clock.add(waited, next.value);
      const job = jobs[k++]!;
      o.log?.debug(`forward: ${k <= o.train.length ? 'train' : 'val'} batch ${k}/${jobs.length}: waited ${waited.toFixed(0)} ms; workers read ${next.value.readMs.toFixed(0)} ms, forward ${next.value.forwardMs.toFixed(0)} ms`);
      if (k <= o.train.length) await o.onTrainBatch(next.value.features, job);
      else {
        valFeatures.set(next.value.features, valAt * o.dim);
        valAt += job.length;
      }
    }
  } finally {
    // Stops launching jobs; those in flight settle into the handlers attached at launch.
    await it.return(undefined);
  }
  return { valFeatures, clock };
}
