import { move } from 'piscina';
import type { TransformOptions, WorkingImage } from '../transform.js';
import { tensorFromWorking } from '../transform.js';

/** A message to the finishing worker: one decoded working copy and the transform to finish it with. */
export interface FinishTask {
  work: WorkingImage;
  transform: TransformOptions;
}

const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isPos = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function isFinishTask(v: unknown): v is FinishTask {
  const t = v as { work?: Partial<WorkingImage>; transform?: Partial<TransformOptions> } | null;
  if (typeof t !== 'object' || t === null || typeof t.work !== 'object' || typeof t.transform !== 'object') return false;
  const w = t.work, o = t.transform;
  return w.data instanceof Uint8Array && isInt(w.width) && isInt(w.height) && w.data.length === w.width * w.height * 3
    && isInt(w.originalWidth) && isInt(w.originalHeight) && isPos(w.scaleX) && isPos(w.scaleY) && isInt(w.orientation) && w.orientation <= 8
    && isInt(o.size) && (o.crop === 'auto' || o.crop === 'none') && (o.normalize === 'none' || o.normalize === 'ben-graham')
    && (o.dtype === 'uint8' || o.dtype === 'float16' || o.dtype === 'float32');
}

/**
 * Piscina entry: everything after decoding (retina detection, crop and resize, Ben Graham, dtype
 * conversion), off the main thread, which then only dispatches decodes and writes records.
 */
export default async function finish(task: unknown): Promise<unknown> {
  if (!isFinishTask(task)) throw new TypeError('finish-worker: malformed task');
  const out = await tensorFromWorking(task.work, task.transform);
  // Hand the buffer back without copying it.
  return move(out);
}
