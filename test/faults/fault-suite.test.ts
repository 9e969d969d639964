import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { tempDir } from '../helpers/cli.js';
import { runFaultSuite, summaryTable, type CategoryResult } from './harness.js';

/**
 * #16's fault suite, small enough for `npm test` (a few minutes on 2 contended cores); the larger
 * run is `npx tsx bench/fault-suite.ts` (BENCHMARKS.md "Fault suite").
 */
describe('fault suite (#16 Goal)', () => {
  let root: string, cleanup: () => Promise<void>;
  let results: CategoryResult[];

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('integrity-faults-'));
    const fixtures = join(root, 'fx');
    await generateFixtures({ out: fixtures, count: 10, seed: 16, size: { width: 96, height: 72 } });
    results = await runFaultSuite({ root, fixtures, formats: ['raw', 'msgpack', 'lmdb', 'tfjs'], randomKills: 2, flipsPerFile: 12, metaFlips: 24, seed: 16, size: 24 });
    const table = summaryTable(results);
    process.stdout.write(`\nfault suite:\n${table}\n`);
    if (process.env.RETINA_FAULT_REPORT) await writeFile(process.env.RETINA_FAULT_REPORT, JSON.stringify(results, null, 1));
  }, 1_500_000);
  afterAll(() => cleanup?.());

  it('every fault tried is handled: 0 silent wrong results, 0 hangs, 0 crashes without a message', () => {
    for (const r of results) {
      expect({ category: r.category, failures: r.failures }).toEqual({ category: r.category, failures: [] });
      expect(r.handled).toBe(r.tried);
      expect({ silent: r.silent, hangs: r.hangs, crashes: r.crashes }).toEqual({ silent: 0, hangs: 0, crashes: 0 });
      if (!r.skipped) expect(r.tried).toBeGreaterThan(0);
    }
  });
});
