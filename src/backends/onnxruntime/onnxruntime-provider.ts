/**
 * The `onnxruntime` backend provider for `--backend` (see src/train/backend.ts): frozen forward
 * passes (feature extraction, epochs without the feature cache, evaluate, predict) run in ONNX
 * Runtime on a graph retina builds from its own tfjs model; the head, and `--fine-tune`, stay on
 * tfjs, which this provider starts on wasm (cpu when wasm does not start). ONNX Runtime's
 * native library loads only when the provider is activated.
 */
import type { BackendProvider } from '../provider.js';
import { loadOrt } from './ort-runtime.js';

export const ONNXRUNTIME = 'onnxruntime';

export const onnxruntimeProvider: BackendProvider = {
  name: ONNXRUNTIME,
  description: 'ONNX Runtime (optional package onnxruntime-node) for frozen forward passes; the head and --fine-tune on tfjs wasm',
  // One ONNX Runtime session per thread, single-threaded, beats one session with intra-op threads
  // on 2 cores (see BENCHMARKS.md, "ONNX Runtime"): the workers also decode in parallel.
  parallelWorkers: true,
  frozenForward: 'onnxruntime',
  async activate() {
    await loadOrt();
    const { activateTfjsFor } = await import('../backend-registry.js');
    await activateTfjsFor(ONNXRUNTIME, ['wasm', 'cpu']);
  },
};
