import { execFile } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RetinaError, messageOf } from '../core/errors.js';

const run = promisify(execFile);

export const DROP_CACHES = '/proc/sys/vm/drop_caches';

/** Every regular file under `path` (or `path` itself), with its size. */
export async function filesUnder(path: string): Promise<Array<{ file: string; bytes: number }>> {
  const s = await stat(path);
  if (s.isFile()) return [{ file: path, bytes: s.size }];
  if (!s.isDirectory()) return [];
  const out: Array<{ file: string; bytes: number }> = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push({ file: full, bytes: (await stat(full)).size });
  }
  return out;
}

/** Total bytes of the regular files under `path`. */
export async function bytesUnder(path: string): Promise<number> {
  return (await filesUnder(path)).reduce((sum, f) => sum + f.bytes, 0);
}

/** Parse `fincore --json --bytes` output into resident and total bytes. */
export function parseFincore(json: unknown): { resident: number; bytes: number } {
  const rows = (json as { fincore?: unknown } | null)?.fincore;
  if (!Array.isArray(rows)) throw new Error('fincore output has no "fincore" array');
  let resident = 0, bytes = 0;
  for (const row of rows as unknown[]) {
    const r = row as { res?: unknown; size?: unknown };
    const res = Number(r.res), size = Number(r.size);
    if (!Number.isFinite(res) || !Number.isFinite(size)) throw new Error(`fincore row without numeric res/size: ${JSON.stringify(row)}`);
    // Residency is counted in whole pages; a 3-byte file with one page resident is fully resident.
    resident += Math.min(res, size);
    bytes += size;
  }
  return { resident, bytes };
}

/**
 * Share (0-1) of the bytes of the files under `path` (a folder, a file, or a list of files) that
 * sit in the page cache, probed with
 * util-linux `fincore` (mincore(2) is not reachable from Node). Null when fincore is missing or
 * fails: then the report says residency was not probed rather than guessing.
 */
export async function residentFraction(path: string | readonly string[]): Promise<number | null> {
  const all = typeof path === 'string' ? await filesUnder(path) : (await Promise.all(path.map(filesUnder))).flat();
  const files = all.filter((f) => f.bytes > 0);
  if (files.length === 0) return null;
  try {
    let resident = 0, bytes = 0;
    // Batches keep the argument list well under ARG_MAX for 35k JPEGs.
    for (let i = 0; i < files.length; i += 500) {
      const { stdout } = await run('fincore', ['--json', '--bytes', ...files.slice(i, i + 500).map((f) => f.file)], { maxBuffer: 64 * 1024 * 1024 });
      const part = parseFincore(JSON.parse(stdout) as unknown);
      resident += part.resident;
      bytes += part.bytes;
    }
    return bytes > 0 ? resident / bytes : null;
  } catch {
    return null;
  }
}

/** Whether `fincore` can be run here. */
export async function hasFincore(): Promise<boolean> {
  try {
    await run('fincore', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Check up front that `--cold` can work: the kernel's drop_caches file must open for writing,
 * which needs root and a writable /proc/sys (many containers mount it read-only).
 * @throws RetinaError UNSUPPORTED saying why and what to do instead.
 */
export function assertCanDropCaches(path = DROP_CACHES): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (dropping the page cache needs root)'
      : code === 'EROFS' ? '/proc/sys is mounted read-only (a container without privileges)'
      : code === 'ENOENT' ? 'no such file (not Linux, or /proc not mounted)'
      : messageOf(err);
    throw new RetinaError('UNSUPPORTED', `--cold needs to drop the page cache through ${path}, but it cannot be opened for writing: ${why}`, {
      hint: 'Run as root on a machine (or VM) you own, or leave out --cold: the report then says the reads were warm.',
      cause: err,
    });
  }
}

/**
 * Flush dirty pages (`sync`: drop_caches only drops clean ones) and drop the page cache, dentries
 * and inodes, so that the next read comes from the disk.
 */
export async function dropCaches(path = DROP_CACHES): Promise<void> {
  await run('sync');
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY);
    writeSync(fd, '3\n');
  } catch (err) {
    throw new RetinaError('EXTERNAL', `Could not drop the page cache through ${path}: ${messageOf(err)}`, { cause: err, hint: 'Leave out --cold.' });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The sentence the report prints about caches. */
export function cacheStatement(cold: boolean, probed: boolean): string {
  if (cold) {
    return 'cold: page cache synced and dropped (echo 3 > /proc/sys/vm/drop_caches) before every read measurement and every training'
      + (probed ? '; residency probed with fincore just before the reads (column "cached")' : '; residency not probed (no fincore)');
  }
  return 'warm: each dataset was read right after it was written; the page cache was not dropped'
    + (probed ? ', and fincore measured how much of it was resident just before the reads (column "cached")' : ' (fincore not available to probe residency)')
    + '. Use --cold for reads from disk.';
}
