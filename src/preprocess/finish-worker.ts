import { move } from 'piscina';
import { finishTensor } from '../finish.js';
import type { DType } from '../../formats/types.js';

/** A message to the finishing worker: the square (and its blur) with how to finish it. */
export interface FinishTask {
  square: Uint8Array;
  blurred: Uint8Array | undefined;
  size: number;
  dtype: DType;
}

function isFinishTask(v: unknown): v is FinishTask {
  const t = v as Partial<FinishTask> | null;
  return typeof t === 'object' && t !== null && t.square instanceof Uint8Array
    && (t.blurred === undefined || t.blurred instanceof Uint8Array)
    && typeof t.size === 'number' && (t.dtype === 'uint8' || t.dtype === 'float16' || t.dtype === 'float32');
}

/** Piscina entry: Ben Graham's arithmetic and the dtype conversion, off the main thread. */
export default function finish(task: unknown): unknown {
  if (!isFinishTask(task)) throw new TypeError('finish-worker: malformed task');
  const out = finishTensor(task.square, task.blurred, task.size, task.dtype);
  // Hand the buffer back without copying it.
  return move(out);
}
