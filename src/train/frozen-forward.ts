/**
 * A frozen backbone's forward pass, whichever engine runs it: tfjs (the model itself) or ONNX
 * Runtime (the graph retina builds from that model, see src/onnx/graph.ts). Feature extraction,
 * epochs without the feature cache, evaluate and predict call this, never the engine directly.
 */
import * as tf from '@tensorflow/tfjs';
import { RetinaError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SelectedBackend } from '../backends/backend-registry.js';

export interface FrozenForward {
  /** `onnxruntime`, or the tfjs backend's name. */
  readonly engine: string;
  /** Output width. */
  readonly dim: number;
  /** [n,h,w,c] float32 images in [-1,1] → [n,dim] float32 outputs. */
  run(x: Float32Array, shape: readonly [number, number, number, number]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** The tfjs model as a FrozenForward (it stays owned by the caller: dispose() does not free it). */
export function tfjsForward(model: tf.LayersModel): FrozenForward {
  const dim = model.outputs[0]!.shape[1] as number;
  return {
    engine: tf.getBackend(),
    dim,
    async run(x, shape) {
      // In slices of 8, as before: InceptionV3 at batch 32 needs ~1 GB of the wasm heap.
      const y = tf.tidy(() => model.predict(tf.tensor4d(x, [...shape]), { batchSize: 8 }) as tf.Tensor);
      const out = await y.data() as Float32Array;
      y.dispose();
      return out;
    },
    async dispose() {},
  };
}

/** An ONNX Runtime session over the graph file `file` as a FrozenForward. */
export async function onnxForward(file: string, dim: number, threads: number): Promise<FrozenForward> {
  const { createSession, runSession } = await import('../backends/onnxruntime/ort-runtime.js');
  const session = await createSession(file, { threads });
  return {
    engine: 'onnxruntime',
    dim,
    async run(x, shape) {
      const y = await runSession(session, x, shape);
      if (y.length !== shape[0] * dim) throw new RetinaError('EXTERNAL', `ONNX Runtime returned ${y.length} values for ${shape[0]} images of ${dim} features (${file})`, { location: { file } });
      return y;
    },
    async dispose() { await session.release(); },
  };
}

/** Where the frozen forward pass of a backbone runs: an ONNX graph file, or tfjs. */
export interface ForwardPlan {
  /** The cached graph when ONNX Runtime runs it. */
  onnxFile?: string;
  engine: string;
}

/**
 * Decide where `model`'s frozen forward passes run under `selected`: for the onnxruntime
 * provider, build (or find in the cache) its ONNX graph. A layer the builder does not support is an
 * UNSUPPORTED error naming it under an explicit `--backend onnxruntime`; under `auto` the forward
 * pass falls back to tfjs, with the reason logged.
 */
export async function planForward(o: { model: tf.LayersModel; identity: string; selected: SelectedBackend; cacheRoot: string; log: Logger; kind?: string; metadata?: Record<string, string> }): Promise<ForwardPlan> {
  if (o.selected.provider.frozenForward !== 'onnxruntime') return { engine: tf.getBackend() };
  const { cachedOnnxGraph } = await import('../onnx/graph-cache.js');
  try {
    const t0 = performance.now();
    const g = await cachedOnnxGraph(o.model, o.identity, o.cacheRoot, { ...(o.kind ? { kind: o.kind } : {}), ...(o.metadata ? { metadata: o.metadata } : {}) });
    o.log.debug(`onnxruntime: graph ${g.file} ${g.hit ? 'from the cache' : `built in ${((performance.now() - t0) / 1000).toFixed(1)} s`}`);
    return { onnxFile: g.file, engine: 'onnxruntime' };
  } catch (err) {
    // A layer the builder cannot express, or a cache folder that cannot take the graph (full,
    // read-only): auto still runs, on tfjs; an explicit --backend onnxruntime reports it.
    if (!o.selected.auto) throw err;
    o.log.warn(`backend auto: the frozen forward pass runs on tfjs ${tf.getBackend()}: ${messageOf(err)}`);
    return { engine: tf.getBackend() };
  }
}

/** Open the forward pass `plan` names (`threads` intra-op threads for ONNX Runtime). */
export async function openForward(plan: ForwardPlan, model: tf.LayersModel, threads = 1): Promise<FrozenForward> {
  const dim = model.outputs[0]!.shape[1] as number;
  return plan.onnxFile !== undefined ? onnxForward(plan.onnxFile, dim, threads) : tfjsForward(model);
}
