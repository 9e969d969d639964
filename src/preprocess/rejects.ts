import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { RowProblem } from '../labels.js';
import { shardDirName } from '../../formats/types.js';

/** Quote a CSV cell when it needs it (RFC 4180). */
function cell(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Where a task's rejects go: `DATASET/rejects.csv` for a single-shard run; with several shards
 * each task writes `DATASET/rejects-iiiii-of-nnnnn.csv` (shard 0 also lists the rows rejected
 * by validation, which every task finds alike), so tasks never write the same file and
 * `cat rejects*.csv` lists each reject once.
 */
export function rejectsPath(dataset: string, index: number, count: number): string {
  return count === 1 ? join(dataset, 'rejects.csv') : join(dataset, `rejects-${shardDirName(index, count).slice('shard-'.length)}.csv`);
}

/** Write `id,line,reason` rows (sorted by line) atomically. */
export async function writeRejects(file: string, rejects: readonly RowProblem[]): Promise<void> {
  const rows = [...rejects].sort((a, b) => a.line - b.line).map((r) => `${cell(r.id)},${r.line},${cell(r.reason)}\n`);
  await writeFileAtomic(file, 'id,line,reason\n' + rows.join(''));
}
