/**
 * A trained grader's forward pass (backbone + head, images → grade probabilities) for `evaluate`
 * and `predict`: in ONNX Runtime when the selected backend is `onnxruntime` (the grader's graph,
 * cached by the checksum of its files), else in tfjs. Both are frozen forward passes.
 */
import type { Logger } from '../core/log.js';
import { usableCpus } from '../core/cpus.js';
import type { SelectedBackend } from '../backends/backend-registry.js';
import { defaultCacheRoot } from './feature-cache.js';
import { openForward, planForward, type FrozenForward } from './frozen-forward.js';
import type { Grader } from './grader.js';
import { weightsIdentity } from './models/model-registry.js';

/** ONNX metadata describing a grader: what `retina export` writes and a user's runtime needs. */
export function graderMetadata(g: Grader): Record<string, string> {
  return {
    'retina.kind': 'retina-grader',
    'retina.input': JSON.stringify({ layout: 'NHWC', shape: g.inputShape, dtype: 'float32', range: [-1, 1], fromUint8: 'x / 127.5 - 1' }),
    'retina.transform': JSON.stringify(g.transform),
    'retina.grades': JSON.stringify(Array.from({ length: g.classes }, (_, i) => i)),
    'retina.output': 'probabilities of grades 0-4 (softmax), [batch, 5]',
  };
}

export async function openGraderForward(o: { grader: Grader; selected: SelectedBackend; log: Logger; cacheDir?: string | undefined; threads?: number | undefined }): Promise<FrozenForward> {
  for (const s of o.selected.skipped) o.log.debug(`backend auto: skipped ${s.name}: ${s.reason}`);
  const plan = await planForward({
    model: o.grader.model, identity: await weightsIdentity(o.grader.file), selected: o.selected,
    cacheRoot: o.cacheDir ?? defaultCacheRoot(), log: o.log, kind: 'grader', metadata: graderMetadata(o.grader),
  });
  return openForward(plan, o.grader.model, usableCpus(o.threads).cpus);
}
