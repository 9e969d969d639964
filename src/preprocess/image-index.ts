import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { RetinaError } from '../core/errors.js';

/** Image extensions looked for when an id has none, in order of preference. */
export const IMAGE_EXTENSIONS = ['.jpeg', '.jpg', '.png', '.tif', '.tiff'] as const;

/** The images folder read once: find a file by id without one `stat` per row. */
export interface ImageIndex {
  readonly dir: string;
  /** Number of image files in the folder. */
  readonly size: number;
  /** Path of the image for `id` (its own extension, else the first of IMAGE_EXTENSIONS), or undefined. */
  find(id: string): string | undefined;
}

/**
 * List `dir` once and index its image files by name and by name without extension. A folder of
 * 35,126 files is one `readdir`, not 35,126 `stat` calls.
 *
 * @throws RetinaError NOT_FOUND when `dir` is missing or not a folder.
 */
export async function indexImages(dir: string): Promise<ImageIndex> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new RetinaError('NOT_FOUND', `Images folder ${dir} cannot be read (${(err as { code?: string }).code ?? 'error'})`, {
      location: { file: dir }, hint: 'Pass --images DIR, or run in the folder holding train/.', cause: err,
    });
  }
  const exact = new Set<string>();
  const byStem = new Map<string, { name: string; rank: number }>();
  for (const name of names) {
    const ext = extname(name).toLowerCase();
    const rank = (IMAGE_EXTENSIONS as readonly string[]).indexOf(ext);
    if (rank < 0) continue;
    exact.add(name);
    const stem = name.slice(0, name.length - ext.length);
    const prev = byStem.get(stem);
    if (!prev || rank < prev.rank) byStem.set(stem, { name, rank });
  }
  return {
    dir,
    size: exact.size,
    find(id) {
      const name = exact.has(id) ? id : byStem.get(id)?.name;
      return name === undefined ? undefined : join(dir, name);
    },
  };
}
