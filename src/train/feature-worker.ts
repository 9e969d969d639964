import { selectBackend } from '../backends/backend-registry.js';
import { buildBackbone } from './models/model-registry.js';
import { openSource, type SampleSource } from './sources.js';
import { RetinaError } from '../core/errors.js';
import { computeFeatures, type FeatureFailure, type FeatureReply, type FeatureTask } from './features.js';
import { onnxForward, tfjsForward, type FrozenForward } from './frozen-forward.js';

/** One backbone and one open source per worker thread, reused across tasks. */
let state: { key: string; forward: FrozenForward; dispose: () => Promise<void>; source: SampleSource } | undefined;

function isTask(v: unknown): v is FeatureTask {
  const t = v as Partial<FeatureTask> | null;
  return typeof t === 'object' && t !== null && typeof t.backend === 'string' && Array.isArray(t.indices)
    && typeof t.source === 'object' && t.source !== null && typeof t.backbone === 'object' && t.backbone !== null
    && (t.onnxFile === undefined || typeof t.onnxFile === 'string') && (t.dim === undefined || typeof t.dim === 'number');
}

/**
 * Piscina entry: compute features of `task.indices`; returns a `FeatureReply` (the float32
 * features and how long reading and the forward pass took in this thread). The reply is cloned,
 * not moved: a chunk's features are 8 x dim floats (64 KiB for InceptionV3), cheap to copy.
 */
export default async function run(task: unknown): Promise<unknown> {
  try {
    return await compute(task);
  } catch (err) {
    if (!(err instanceof RetinaError)) throw err;
    const failure: FeatureFailure = { error: { code: err.code, message: err.message, location: { ...err.location }, hint: err.hint } };
    return failure;
  }
}

async function compute(task: unknown): Promise<FeatureReply> {
  if (!isTask(task)) throw new Error('feature worker: malformed task');
  const key = JSON.stringify([task.source, task.backbone, task.backend, task.onnxFile]);
  if (!state || state.key !== key) {
    if (state) { await state.dispose(); await state.source.close(); }
    let forward: FrozenForward, dispose: () => Promise<void>;
    if (task.onnxFile !== undefined && typeof task.dim === 'number') {
      // No tfjs model in this thread: the graph file is all ONNX Runtime needs.
      const f = await onnxForward(task.onnxFile, task.dim, 1);
      forward = f;
      dispose = () => f.dispose();
    } else {
      await selectBackend(task.backend);
      const backbone = await buildBackbone({ ...task.backbone, trainable: false });
      forward = tfjsForward(backbone.model);
      dispose = async () => { backbone.model.dispose(); };
    }
    const source = await openSource(task.source);
    state = { key, forward, dispose, source };
  }
  const timing = { readMs: 0, forwardMs: 0 };
  const features = await computeFeatures(state.forward, state.source, task.indices, undefined, timing);
  const reply: FeatureReply = { features: features.buffer as ArrayBuffer, ...timing };
  return reply;
}
