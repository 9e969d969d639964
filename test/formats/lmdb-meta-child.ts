/**
 * Child process for lmdb-meta.test.ts: flips bytes of data.mdb's meta pages one at a time and
 * opens the dataset after each, printing one JSON line of outcomes. Run in a child because a
 * flip that reached lmdb-js could kill the process (SIGSEGV) rather than throw.
 * Usage: node --import tsx lmdb-meta-child.ts DATASET OFFSETS(comma-separated)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset, shardPath } from '../../formats/dataset.js';
import { RetinaError } from '../../src/core/errors.js';

const [dataset, offsets] = process.argv.slice(2);
const file = join(shardPath(dataset!, 0, 1), 'data.mdb');
const good = await readFile(file);
const outcomes: Record<string, number> = {};
const silent: number[] = [];
for (const at of offsets!.split(',').map(Number)) {
  const bad = Buffer.from(good);
  bad[at]! ^= 0xff;
  await writeFile(file, bad);
  let outcome: string;
  try {
    const r = await openDataset(dataset!);
    try {
      for (let i = 0; i < r.count; i++) await r.get(i);
      outcome = 'read';
      silent.push(at);
    } finally {
      await r.close();
    }
  } catch (err) {
    outcome = err instanceof RetinaError ? err.code : `raw:${(err as Error).message}`;
  }
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
await writeFile(file, good);
process.stdout.write(`${JSON.stringify({ outcomes, silent })}\n`);
