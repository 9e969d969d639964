import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { tensorFromWorking, type TransformOptions, type WorkingImage } from '../transform.js';
import type { FinishTask } from './finish-worker.js';

/** Turns decoded working copies into stored tensors, on piscina workers or inline. */
export interface Finisher {
  finish(work: WorkingImage, transform: TransformOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * The compiled worker. From TypeScript sources (vitest, tsx) the sibling `.js` does not exist;
 * the compiled copy under dist/ is used then (the test setup and `npm run build` produce it).
 */
function workerFile(): string {
  const sibling = new URL('./finish-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return fileURLToPath(sibling);
  const compiled = new URL('../../dist/src/preprocess/finish-worker.js', import.meta.url);
  return fileURLToPath(compiled);
}

/**
 * A finisher with `threads` piscina workers, or inline on the calling thread with 0. The working
 * copy is copied into the worker (it cannot be moved: sharp's buffers are external memory), which
 * costs the main thread less than detection and resampling would.
 */
export function createFinisher(threads: number): Finisher {
  if (threads === 0) return { finish: tensorFromWorking, close: async () => {} };
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  return {
    async finish(work, transform) {
      const task: FinishTask = { work, transform };
      const out: unknown = await pool.run(task);
      if (!(out instanceof Uint8Array)) throw new TypeError('finish worker returned no bytes');
      return out;
    },
    close: () => pool.destroy(),
  };
}
