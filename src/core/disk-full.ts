import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RetinaError, messageOf } from './errors.js';

/**
 * A full disk reported as what it is. Node reports ENOSPC (or EDQUOT for a quota) on writes;
 * LMDB reports a failed page write as EIO ("Input/output error", code 5), so for those the free
 * space of the file system is checked: under FULL_BYTES left, it was the disk.
 */

/** Below this many free bytes a failed write is put down to a full disk (a few 299² records). */
export const FULL_BYTES = 4 << 20;

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO' || code === 'EFBIG') return code;
    const msg = messageOf(e);
    if (/no space left|ENOSPC/i.test(msg)) return 'ENOSPC';
    if (/quota exceeded|EDQUOT/i.test(msg)) return 'EDQUOT';
    if (/input\/output error|\bEIO\b/i.test(msg)) return 'EIO';
  }
  return undefined;
}

/** Free bytes for unprivileged users on the file system holding `path` (or its nearest parent). */
export async function freeBytes(path: string): Promise<number | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** Was `err`, raised writing under `path`, a full disk? */
export async function isDiskFull(err: unknown, path: string): Promise<boolean> {
  if (err instanceof RetinaError) return err.code === 'DISK_FULL';
  const code = errnoOf(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  if (code === 'EIO' || code === 'EFBIG') {
    const free = await freeBytes(path);
    return free !== undefined && free < FULL_BYTES;
  }
  return false;
}

/** The DISK_FULL error for a write under `path` (`what` says what was being written). */
export function diskFullError(path: string, what: string, cause?: unknown, location: { shard?: number } = {}): RetinaError {
  return new RetinaError('DISK_FULL', `No space left on the device holding ${path} while writing ${what}`, {
    location: { file: path, ...location },
    hint: 'Free space (or choose a folder on another disk), then rerun the same command: nothing complete was lost, and the partial files were removed.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Run `write`; a full disk becomes DISK_FULL naming `path`, anything else is rethrown as is. */
export async function mapDiskFull<T>(path: string, what: string, write: () => Promise<T>, location: { shard?: number } = {}): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof RetinaError) && (await isDiskFull(err, path))) throw diskFullError(path, what, err, location);
    throw err;
  }
}

/** DISK_FULL for a raw ENOSPC/EDQUOT error (naming its `path` when Node gave one), else undefined. */
export function diskFullFromErrno(err: unknown): RetinaError | undefined {
  if (err instanceof RetinaError || !err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; path?: unknown; syscall?: unknown };
  if (e.code !== 'ENOSPC' && e.code !== 'EDQUOT') return undefined;
  const path = typeof e.path === 'string' ? e.path : 'the output';
  return diskFullError(path, typeof e.syscall === 'string' ? `(${e.syscall})` : 'its output', err);
}
