import { RetinaError } from '../src/core/errors.js';
import type { TensorFormat } from './types.js';

/**
 * Formats by name, each a lazy `import()`: listing them (e.g. for `--help`) loads no native code.
 * Adding a built-in format is one file in `formats/` plus one line here; third parties call
 * `registerFormat()` from a module loaded before use (see README, "Adding a format").
 */
const loaders = new Map<string, () => Promise<TensorFormat>>([
  ['raw', async () => (await import('./raw.js')).rawFormat],
  ['msgpack', async () => (await import('./msgpack.js')).msgpackFormat],
  ['lmdb', async () => (await import('./lmdb.js')).lmdbFormat],
  ['tfjs', async () => (await import('./tfjs.js')).tfjsFormat],
]);

/** Names of every registered format, in registration order. */
export function formatNames(): string[] {
  return [...loaders.keys()];
}

/** Register (or replace) a format under `name`. */
export function registerFormat(name: string, load: () => Promise<TensorFormat>): void {
  loaders.set(name, load);
}

/** Load a format by name; an unknown name is a clear error listing the known ones. */
export async function loadFormat(name: string): Promise<TensorFormat> {
  const load = loaders.get(name);
  if (!load) {
    throw new RetinaError('BAD_ARGUMENT', `Unknown format "${name}"; known formats: ${formatNames().join(', ')}`, {
      hint: 'Pick one of the known formats, or register yours with registerFormat() before use.',
    });
  }
  return load();
}
