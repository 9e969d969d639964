import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shardDirName } from '../../formats/types.js';

/**
 * Remove temporary folders of shard `index` of `count` left by a killed run
 * (`shard-…-of-….tmp-<pid>-<random>`), unless their process is still alive on this machine.
 * Only this shard's: a task never touches another task's files. Returns the names removed.
 */
export async function removeStaleTemps(datasetDir: string, index: number, count: number): Promise<string[]> {
  const shards = join(datasetDir, 'shards');
  const prefix = `${shardDirName(index, count)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(shards);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    await rm(join(shards, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
