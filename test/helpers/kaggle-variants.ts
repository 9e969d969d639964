/**
 * A generated Kaggle-layout set (train/*.jpeg + trainLabels.csv) in a temporary folder, and
 * copies of it with an edited labels file: the inputs of the preprocess input-handling tests.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { tempDir } from './cli.js';

export interface KaggleVariants {
  /** The temporary folder that holds everything (removed by cleanup). */
  root: string;
  /** The generated set itself. */
  kaggle: string;
  /** Its ids in labels-file order. */
  ids: string[];
  /** A fresh copy of the set, with `csv` applied to its labels file when given. */
  variant: (csv?: (text: string) => string) => Promise<string>;
  cleanup: () => Promise<void>;
}

export async function kaggleVariants(prefix: string, opts: { count: number; seed: number; size: { width: number; height: number } }): Promise<KaggleVariants> {
  const { dir: root, cleanup } = await tempDir(prefix);
  const kaggle = join(root, 'kaggle');
  await generateFixtures({ out: kaggle, ...opts });
  const ids = (await readFile(join(kaggle, 'trainLabels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
  let n = 0;
  const variant = async (csv?: (text: string) => string): Promise<string> => {
    const dir = join(root, `v${n++}`);
    await cp(kaggle, dir, { recursive: true });
    if (csv) {
      const file = join(dir, 'trainLabels.csv');
      await writeFile(file, csv(await readFile(file, 'utf8')));
    }
    return dir;
  };
  return { root, kaggle, ids, variant, cleanup };
}
