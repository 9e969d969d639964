import { RetinaError } from '../../src/core/errors.js';

/** Await `p` and return the RetinaError it rejects with; fail when it resolves or throws another error. */
export async function rejection(p: Promise<unknown>): Promise<RetinaError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RetinaError) return err;
    throw err;
  }
  throw new Error('expected a RetinaError');
}
