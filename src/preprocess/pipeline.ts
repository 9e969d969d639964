import type { TransformOptions } from '../transform.js';
import { decodeForTransform } from '../transform.js';
import { RetinaError, messageOf, type RetinaErrorCode } from '../core/errors.js';
import type { Finisher } from './finish-pool.js';
import { Semaphore } from './threads.js';
import { readWholeFile } from './read-whole.js';
import { imagePixels, PixelBudget } from './pixel-budget.js';

/** Default megapixels decoding at once: two Kaggle originals (16 MP each) per slot, at least 64. */
export function defaultDecodeBudgetMP(decodeSlots: number): number {
  return Math.max(64, 32 * decodeSlots);
}

/** What became of one image: its tensor, or why it could not be read (`code`: the RetinaError's, e.g. UNSUPPORTED samples; CORRUPT otherwise). */
export type Outcome<T> = { item: T; tensor: Uint8Array } | { item: T; error: string; code: RetinaErrorCode };

/**
 * Transform `items` in parallel and hand the outcomes to `sink` strictly in input order, with at
 * most `window` images between read and sink: memory stays flat however many images there are,
 * and the output order (hence the shard bytes) does not depend on timing or thread count.
 * Decoding holds one of `decodeSlots`; everything after it goes to the finisher. Stops launching new
 * images as soon as `signal` aborts; the images in flight settle before it returns.
 */
export async function transformInOrder<T extends { file: string }>(
  items: readonly T[],
  opts: { transform: TransformOptions; decodeSlots: number; window: number; finisher: Finisher; signal?: AbortSignal; pixelBudget?: number },
  sink: (outcome: Outcome<T>) => Promise<void>,
): Promise<void> {
  const slots = new Semaphore(opts.decodeSlots);
  const budget = new PixelBudget(opts.pixelBudget ?? defaultDecodeBudgetMP(opts.decodeSlots) * 1e6);
  const one = async (item: T): Promise<Outcome<T>> => {
    let work;
    try {
      // Reading needs no decode slot: the next files are read while others decode.
      const bytes = await readWholeFile(item.file);
      // A decode's memory follows its pixels, not the file size (a 1.5 MB progressive
      // 16000x16000 JPEG peaked at 861 MB): charge them before taking a slot.
      const pixels = imagePixels(bytes) ?? budget.total;
      await budget.acquire(pixels);
      try {
        await slots.acquire();
        try {
          work = await decodeForTransform(bytes, opts.transform);
        } finally {
          slots.release();
        }
      } finally {
        budget.release(pixels);
      }
    } catch (err) {
      // The decoder's own words are the useful part of the reason.
      return { item, error: err instanceof RetinaError && err.cause !== undefined ? messageOf(err.cause) : messageOf(err), code: err instanceof RetinaError ? err.code : 'CORRUPT' };
    }
    return { item, tensor: await opts.finisher.finish(work, opts.transform) };
  };
  const pending = new Map<number, Promise<Outcome<T>>>();
  let launched = 0;
  try {
    for (let i = 0; i < items.length; i++) {
      while (launched < items.length && launched < i + opts.window && !opts.signal?.aborted) {
        pending.set(launched, one(items[launched]!));
        launched++;
      }
      if (opts.signal?.aborted) break;
      const outcome = await pending.get(i)!;
      pending.delete(i);
      await sink(outcome);
    }
  } finally {
    // Never leave work running behind the caller's back (it may be about to abort the writer).
    await Promise.allSettled(pending.values());
  }
}
