import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KAGGLE_SAMPLE } from './cli.js';
import { CHROMIUM } from './chromium.js';

/**
 * Tests that need something outside the repo (the real Kaggle sample beside the clone, Chromium,
 * Debian's Python packages, a real Slurm) skip with the reason printed on a bare machine, and
 * must run where `CI` is set (`.ci/run` installs and starts all of them): there a missing one
 * fails the test file instead of hiding the tests.
 */

/** Debian's python3 with apt's numpy, h5py, ...; the `python3` on PATH may be another one. */
export const PYTHON = '/usr/bin/python3';

/** Whether the `CI` environment variable is set (to anything but empty, 0 or false). */
export const IN_CI = !['', '0', 'false'].includes((process.env['CI'] ?? '').toLowerCase());

export interface Requirement {
  name: string;
  available: boolean;
  /** Why it is missing and how to get it (empty when available). */
  reason: string;
  /** ` (SKIPPED: reason)` to append to a describe's title when missing, else empty. */
  titleSuffix: string;
}

/**
 * Check a requirement once per test file. Missing without CI: print the reason (the default
 * reporter shows it) and report it unavailable, for `describe.skipIf(!r.available)`.
 * Missing under CI: throw, failing the file.
 */
export function requirement(name: string, available: boolean, reason: string): Requirement {
  if (available) return { name, available, reason: '', titleSuffix: '' };
  if (IN_CI) throw new Error(`CI is set, so the tests that need ${name} must run, but: ${reason}`);
  process.stderr.write(`SKIPPING the tests that need ${name}: ${reason}\n`);
  return { name, available, reason, titleSuffix: ` (SKIPPED: ${reason})` };
}

/** The real Kaggle sample beside the clone (`../shared/data/kaggle-sample`; never copied in). */
export function kaggleSample(): Requirement {
  return requirement('the real Kaggle sample', existsSync(join(KAGGLE_SAMPLE, 'trainLabels.csv')) && existsSync(join(KAGGLE_SAMPLE, 'train')),
    `${KAGGLE_SAMPLE} is absent (10 real Kaggle images + the 35,126-row trainLabels.csv, beside the clone)`);
}

/** Debian's chromium, for the bench chart rendered in a real browser. */
export function chromiumBrowser(): Requirement {
  return requirement('Chromium', existsSync(CHROMIUM), `${CHROMIUM} is absent (apt-get install -y chromium, or set CHROMIUM)`);
}
