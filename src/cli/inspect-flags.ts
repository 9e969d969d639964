import type { FlagRecord } from './flag-spec.js';

/** `retina inspect` flags, declared once (see flag-spec.ts): all of them draw the contact sheet (`--sheet`, #19). */
export const INSPECT_FLAGS = {
  sheet: {
    kind: 'string',
    path: 'file',
    summary: 'Write a contact sheet of stored records to this file (.png, .jpeg or .html), read back through the format readers with checksums verified.',
  },
  'per-grade': { kind: 'integer', default: 8, min: 1, summary: 'Tiles per grade in the sheet (one band of rows per grade).' },
  split: { kind: 'string', options: ['train', 'val', 'all'], default: 'all', summary: 'Which records the sheet draws from.' },
  ids: { kind: 'string', summary: 'Show exactly these records (comma-separated ids) in their grade rows; --per-grade and --split do not apply.' },
  seed: { kind: 'integer', default: 0, summary: 'Which records the sheet draws when a grade has more than --per-grade.' },
} as const satisfies FlagRecord;
