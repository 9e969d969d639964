import { Piscina } from 'piscina';
import { RetinaError, isRetinaErrorCode, messageOf, type ErrorLocation } from '../core/errors.js';
import { mapLimit } from '../core/concurrency.js';
import type { BackboneSpec } from './models/model-registry.js';
import type { SourceDescriptor } from './sources.js';
import { FEATURE_CHUNK, featureWorkerFile, type FeatureFailure, type FeatureReply, type FeatureTask, type FeatureTiming } from './features.js';

/** Features of some records computed by the pool, with the worker time they took. */
export interface PooledFeatures extends FeatureTiming {
  /** [indices.length x dim] float32, in the order of the indices asked for. */
  features: Float32Array;
}

/** What a pool computes: one backbone over one source, on one tfjs backend. */
export interface FeaturePoolOptions {
  source: SourceDescriptor;
  /** Rebuilt (frozen) in every worker: seeded weights are identical in every thread, loaded ones come from the same file. */
  backbone: BackboneSpec;
  backend: string;
  /** The backbone's ONNX graph, when ONNX Runtime runs the forward pass (see `planForward`). */
  onnxFile?: string | undefined;
  /** Feature length (the backbone's output width), to check replies against. */
  dim: number;
  threads: number;
}

/** `work`, or an ABORTED rejection as soon as `signal` aborts (`work` then settles unobserved). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RetinaError('ABORTED', `Feature computation stopped (${String(signal.reason ?? 'aborted')})`));
    if (signal.aborted) { onAbort(); return; }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The RetinaError a worker reported as data (see `FeatureFailure`), or undefined. */
function failureOf(v: unknown): RetinaError | undefined {
  const e = (v as Partial<FeatureFailure> | null)?.error;
  if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return undefined;
  const code = isRetinaErrorCode(e.code) ? e.code : 'EXTERNAL';
  const location: ErrorLocation = {};
  const l = (typeof e.location === 'object' && e.location !== null ? e.location : {}) as Record<string, unknown>;
  for (const k of ['file', 'id'] as const) if (typeof l[k] === 'string') location[k] = l[k];
  for (const k of ['line', 'shard', 'record'] as const) if (typeof l[k] === 'number') location[k] = l[k];
  return new RetinaError(code, e.message, { location, ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) });
}

function isReply(v: unknown): v is FeatureReply {
  const r = v as Partial<FeatureReply> | null;
  return typeof r === 'object' && r !== null && r.features instanceof ArrayBuffer
    && typeof r.readMs === 'number' && typeof r.forwardMs === 'number';
}

/**
 * A persistent pool of piscina worker threads, each with its own tfjs instance, its own copy of a
 * frozen backbone and its own open source, built on a worker's first task and reused by every later
 * one. It lives as long as its user needs it (one feature extraction, or a whole training run) and
 * must be closed (`close()` in a `finally`), which terminates its threads.
 */
export class FeaturePool {
  readonly threads: number;
  private readonly pool: Piscina;
  private readonly task: Omit<FeatureTask, 'indices'>;
  private closed = false;
  private failure: unknown;

  constructor(private readonly opts: FeaturePoolOptions) {
    this.threads = opts.threads;
    this.task = {
      source: opts.source, backbone: { ...opts.backbone, trainable: false }, backend: opts.backend,
      ...(opts.onnxFile !== undefined ? { onnxFile: opts.onnxFile, dim: opts.dim } : {}),
    };
    // minThreads = maxThreads: idle workers stay (with their backbone) between an epoch's batches.
    this.pool = new Piscina({ filename: featureWorkerFile(), minThreads: opts.threads, maxThreads: opts.threads, idleTimeout: 60_000 });
    // destroy() forgets the tasks in flight; a reply already queued on a port then arrives as
    // "Unexpected message from Worker", emitted as an 'error' event, which without a listener
    // crashes the process (seen when training is aborted). After close() that is expected; before,
    // it fails the next task.
    this.pool.on('error', (err: unknown) => { if (!this.closed) this.failure ??= err; });
  }

  /**
   * Features of `indices` computed by one worker in one task (batches of FEATURE_CHUNK from the
   * first index). Aborting `signal` rejects at once (ABORTED); the task itself stops when the pool
   * is closed, which terminates its worker.
   */
  async chunk(indices: readonly number[], signal?: AbortSignal): Promise<PooledFeatures> {
    if (this.failure !== undefined) throw new RetinaError('EXTERNAL', `The feature worker pool failed: ${messageOf(this.failure)}`, { cause: this.failure });
    const task: FeatureTask = { ...this.task, indices: [...indices] };
    // Not piscina's own `signal`: on abort it terminates the worker and starts a replacement, and
    // when that worker's exit comes after destroy() has returned, the replacement
    // outlives the pool (piscina 5.3.2: a leaked thread, seen in the abort test). destroy() alone is clean.
    const reply: unknown = await abortable(this.pool.run(task), signal);
    const failed = failureOf(reply);
    if (failed) throw failed;
    const bytes = indices.length * this.opts.dim * 4;
    if (!isReply(reply) || reply.features.byteLength !== bytes) {
      const got = isReply(reply) ? `${reply.features.byteLength} bytes` : typeof reply;
      throw new RetinaError('EXTERNAL', `A feature worker returned ${got}, expected ${bytes} bytes of features`);
    }
    return { features: new Float32Array(reply.features), readMs: reply.readMs, forwardMs: reply.forwardMs };
  }

  /**
   * Features of `indices` split into FEATURE_CHUNK-record tasks from the first index, run on as
   * many workers as are free: the same batches `model.predict(x, {batchSize: FEATURE_CHUNK})` would
   * run in one thread, so the same numbers. Times are summed over the tasks (thread-milliseconds).
   */
  async features(indices: readonly number[], signal?: AbortSignal): Promise<PooledFeatures> {
    const dim = this.opts.dim;
    const starts: number[] = [];
    for (let s = 0; s < indices.length; s += FEATURE_CHUNK) starts.push(s);
    const parts = await Promise.all(starts.map((s) => this.chunk(indices.slice(s, s + FEATURE_CHUNK), signal)));
    const out: PooledFeatures = { features: new Float32Array(indices.length * dim), readMs: 0, forwardMs: 0 };
    parts.forEach((p, k) => {
      out.features.set(p.features, starts[k]! * dim);
      out.readMs += p.readMs;
      out.forwardMs += p.forwardMs;
    });
    return out;
  }

  /**
   * Have every worker build its backbone and open its source now (an empty task each), so that
   * cost lands in set-up, not in the first epoch. Piscina hands queued tasks to idle workers, so
   * `threads` concurrent empty tasks reach every worker unless one finishes its set-up before
   * another starts; that worker then builds on its first real task instead.
   */
  async warmUp(signal?: AbortSignal): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.chunk([], signal)));
  }

  /** Terminate the worker threads (tasks still queued reject). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}

/**
 * Features of `indices` computed by `threads` worker threads (a `FeaturePool` that lives for this
 * call), each with its own tfjs instance and its own copy of the backbone (rebuilt from `spec`:
 * seeded weights are identical in every thread, loaded weights come from the same file).
 */
export async function computeFeaturesInWorkers(opts: {
  source: SourceDescriptor;
  backbone: BackboneSpec;
  backend: string;
  onnxFile?: string | undefined;
  indices: readonly number[];
  dim: number;
  threads: number;
  onProgress?: (done: number, total: number) => void;
  /** Stop handing out chunks once aborted (chunks in flight finish); the result is then partial. */
  signal?: AbortSignal | undefined;
}): Promise<Float32Array> {
  const pool = new FeaturePool({ source: opts.source, backbone: opts.backbone, backend: opts.backend, onnxFile: opts.onnxFile, dim: opts.dim, threads: opts.threads });
  const out = new Float32Array(opts.indices.length * opts.dim);
  const chunks: number[] = [];
  for (let s = 0; s < opts.indices.length; s += FEATURE_CHUNK) chunks.push(s);
  let done = 0;
  try {
    await mapLimit(chunks, opts.threads * 2, async (start) => {
      if (opts.signal?.aborted) return;
      const indices = opts.indices.slice(start, start + FEATURE_CHUNK);
      const r = await pool.chunk(indices);
      out.set(r.features, start * opts.dim);
      done += indices.length;
      opts.onProgress?.(done, opts.indices.length);
    });
  } finally {
    await pool.close();
  }
  return out;
}
