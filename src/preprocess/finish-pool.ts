import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { DType } from '../../formats/types.js';
import { finishTensor } from '../finish.js';

/** Runs the JS finishing step (Ben Graham, dtype conversion) on piscina workers, or inline when there is nothing to do. */
export interface Finisher {
  finish(square: Uint8Array, blurred: Uint8Array | undefined, size: number, dtype: DType): Promise<Uint8Array>;
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

/** A finisher with `threads` piscina workers; 0 threads finishes inline (uint8 without normalisation is a no-op). */
export function createFinisher(threads: number): Finisher {
  if (threads === 0) {
    return { finish: async (sq, bl, size, dtype) => finishTensor(sq, bl, size, dtype), close: async () => {} };
  }
  const pool = new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  return {
    async finish(square, blurred, size, dtype) {
      const out: unknown = await pool.run({ square, blurred, size, dtype });
      if (!(out instanceof Uint8Array)) throw new TypeError('finish worker returned no bytes');
      return out;
    },
    close: () => pool.destroy(),
  };
}
