import * as tf from '@tensorflow/tfjs';
import { sharedTensor } from '../tensor-view.js';

interface EngineSaves {
  saveTensorsForBackwardMode?: (tensors: tf.Tensor[]) => tf.Tensor[];
  keep<T extends tf.Tensor>(t: T): T;
}

/**
 * Runs `fn` (synchronously) with the gradient tape keeping what kernels save for backward as
 * tensors sharing the saved data instead of clones. tfjs 4.22's engine clones every input or
 * output a taped kernel saves, one Identity kernel each (565 per InceptionV3 fine-tuning step),
 * and on wasm that Identity copies the data. Tensors are immutable, so a second reference to the
 * same data is what the cpu and webgpu Identity kernels return anyway; the saved tensors are kept
 * and disposed exactly as the clones would be. Other backends and dtypes keep the clones. Relies
 * on the engine's (private) `saveTensorsForBackwardMode`; without it `fn` runs unchanged.
 */
export function withSharedTapeSaves<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as EngineSaves;
  const original = engine.saveTensorsForBackwardMode;
  if (typeof original !== 'function' || Object.hasOwn(engine, 'saveTensorsForBackwardMode')) return fn();
  engine.saveTensorsForBackwardMode = function (this: EngineSaves, tensors: tf.Tensor[]): tf.Tensor[] {
    return tensors.map((t) => {
      const shared = sharedTensor(t);
      return shared ? this.keep(shared) : original.call(this, [t])[0]!;
    });
  };
  try {
    return fn();
  } finally {
    delete engine.saveTensorsForBackwardMode;
  }
}
