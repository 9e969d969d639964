import * as tf from '@tensorflow/tfjs';

/** Kernels that one call ran, by name. */
export interface KernelCount {
  total: number;
  byName: Record<string, number>;
}

interface EngineLike {
  runKernelFunc: (params: { kernelName?: string }) => unknown;
  state: { activeScope: { name?: string } | null };
}

/**
 * Counts the tfjs kernels `fn` runs (synchronously), as `tf.profile` lists them (registered
 * kernels, custom-gradient ops under their scope name, kernels nested in other kernels), but
 * without profiling each one: `tf.profile` times every kernel, which on WebGPU adds a timestamp
 * query per kernel and changes what is measured. Wraps the engine's `runKernelFunc` for the
 * duration of the call only. Use on code that does not await (a training step until it returns).
 */
export function countKernels<T>(fn: () => T): { result: T; count: KernelCount } {
  const engine = tf.engine() as unknown as EngineLike;
  const original = engine.runKernelFunc;
  if (typeof original !== 'function') throw new Error('countKernels: this tfjs engine has no runKernelFunc');
  const byName: Record<string, number> = {};
  let total = 0;
  engine.runKernelFunc = function (this: EngineLike, params) {
    const name = params.kernelName ?? (this.state.activeScope?.name || 'unnamed scope');
    byName[name] = (byName[name] ?? 0) + 1;
    total++;
    return original.call(this, params);
  };
  try {
    const result = fn();
    return { result, count: { total, byName: Object.fromEntries(Object.entries(byName).sort((a, b) => b[1] - a[1])) } };
  } finally {
    engine.runKernelFunc = original;
  }
}
