import { Piscina } from 'piscina';
import type * as tfTypes from '@tensorflow/tfjs';
import { selectBackend } from './backend.js';
import { buildBackbone } from './models/registry.js';
import { openSource, type SampleSource } from './sources.js';
import { computeFeatures, type FeatureTask } from './features.js';

/** One backbone and one open source per worker thread, reused across tasks. */
let state: { key: string; model: tfTypes.LayersModel; source: SampleSource } | undefined;

function isTask(v: unknown): v is FeatureTask {
  const t = v as Partial<FeatureTask> | null;
  return typeof t === 'object' && t !== null && typeof t.backend === 'string' && Array.isArray(t.indices)
    && typeof t.source === 'object' && t.source !== null && typeof t.backbone === 'object' && t.backbone !== null;
}

/** Piscina entry: compute features of `task.indices`; returns their float32 bytes (moved). */
export default async function run(task: unknown): Promise<unknown> {
  if (!isTask(task)) throw new Error('feature worker: malformed task');
  const key = JSON.stringify([task.source, task.backbone, task.backend]);
  if (!state || state.key !== key) {
    if (state) { state.model.dispose(); await state.source.close(); }
    await selectBackend(task.backend);
    const backbone = await buildBackbone({ ...task.backbone, trainable: false });
    const source = await openSource(task.source);
    state = { key, model: backbone.model, source };
  }
  const features = await computeFeatures(state.model, state.source, task.indices);
  return Piscina.move(features.buffer as ArrayBuffer);
}
