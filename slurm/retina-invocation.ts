import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetinaError } from '../src/core/errors.js';

/**
 * How a batch script starts retina on a compute node: this very Node binary and this package's
 * `bin/run.js`, both absolute. Compute nodes share the filesystem but not the login shell's PATH,
 * nvm setup or `npx` cache, so `retina` on PATH is not something a job can count on.
 */
export interface RetinaInvocation {
  node: string;
  script: string;
}

/** The package root: the nearest folder above this module holding `bin/run.js` and `package.json`. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'bin', 'run.js')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new RetinaError('NOT_FOUND', `Cannot find retina's bin/run.js above ${from}`, {
        hint: 'Run retina from its installed package (npm install), not from a copied file.',
      });
    }
    dir = up;
  }
}

/** The invocation of the running installation. */
export function currentRetina(): RetinaInvocation {
  return { node: process.execPath, script: join(packageRoot(), 'bin', 'run.js') };
}
