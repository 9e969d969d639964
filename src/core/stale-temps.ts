import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Temporary files and folders are named `<final>.tmp-<pid>-<random>` (or `.<name>.tmp-<pid>-…`).
 * A later run that owns the final name removes the ones whose writer is gone: its pid no longer
 * runs on this host, or (another host's, or a recycled pid) the entry is older than a day.
 */

const TMP_PID = /\.tmp-(\d+)-/;
const DAY_MS = 24 * 3600 * 1000;

/** Is process `pid` running on this host? (EPERM: it runs, under another user.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a temp entry named `name` belongs to a writer that is gone. */
export async function isDeadTemp(dir: string, name: string, now = Date.now()): Promise<boolean> {
  const m = TMP_PID.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  if (!pidAlive(pid)) return true;
  try {
    return now - (await stat(join(dir, name))).mtimeMs > DAY_MS;
  } catch {
    return false;
  }
}

/** Remove those of `names` (entries of `dir`) whose writer is gone; returns the paths removed. */
export async function removeDeadTemps(dir: string, names: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    if (!(await isDeadTemp(dir, name))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
