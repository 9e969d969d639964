import type { FlagRecord } from './flag-spec.js';
import { PREPROCESS_FLAGS } from './preprocess-flags.js';

/** `retina preview` flags: the transform's own are preprocess's entries, so they stay the same flags. */
export const PREVIEW_FLAGS = {
  out: { kind: 'string', path: 'file', required: true, summary: 'The picture to write (.png, .jpeg or .html).' },
  size: PREPROCESS_FLAGS.size,
  crop: PREPROCESS_FLAGS.crop,
  normalize: PREPROCESS_FLAGS.normalize,
} as const satisfies FlagRecord;
