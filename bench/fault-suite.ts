/**
 * The fault suite at a larger scale than `npm test` runs it (#16 Goal). Prints the per-category
 * table and writes bench/results/fault-suite/report.{json,md}.
 * Usage: npx tsx bench/fault-suite.ts [--kills N] [--flips N] [--meta N] [--images N] [--seed S] [--only cat,cat]
 * Needs root for the disk-full category (a tmpfs mount); it is skipped with the reason otherwise.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFixtures } from '../fixtures/generate.js';
import { runFaultSuite, summaryTable } from '../test/faults/harness.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1]!.split(',') : undefined;
const root = await mkdtemp(join(tmpdir(), 'retina-faults-'));
const t0 = Date.now();
try {
  const fixtures = join(root, 'fx');
  await generateFixtures({ out: fixtures, count: arg('images', 16), seed: arg('seed', 16), size: { width: 96, height: 72 } });
  const results = await runFaultSuite({
    root, fixtures, formats: ['raw', 'msgpack', 'lmdb', 'tfjs'], randomKills: arg('kills', 8), flipsPerFile: arg('flips', 60),
    metaFlips: arg('meta', 96), seed: arg('seed', 16), size: 24, ...(only ? { only } : {}), log: (l) => process.stderr.write(`${l}\n`),
  });
  const table = summaryTable(results);
  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  process.stdout.write(`${table}\n\n${minutes} min\n`);
  for (const r of results) for (const f of r.failures) process.stdout.write(`  ${r.category}: ${f}\n`);
  const dir = join(import.meta.dirname, 'results', 'fault-suite');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.json'), JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), minutes: Number(minutes), results }, null, 1));
  await writeFile(join(dir, 'report.md'), `${table}\n\n\`npx tsx bench/fault-suite.ts ${process.argv.slice(2).join(' ')}\`, ${new Date().toISOString()}, ${minutes} min\n`);
  if (results.some((r) => r.handled !== r.tried)) process.exitCode = 1;
} finally {
  await rm(root, { recursive: true, force: true });
}
