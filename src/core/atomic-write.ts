import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ensureDir } from './ensure-dir.js';
import { faultPoint } from './fault-point.js';
import { removeDeadTemps } from './stale-temps.js';

/**
 * Write-then-rename, the one way retina puts a file or folder in place: readers see the old
 * version or the new one, never half of either. Every writer of a result file (shard manifests,
 * rejects, job records, sbatch scripts, models, feature caches, reports, fixtures) calls these.
 */

/** Marks a temporary name: `<final name>.tmp-<pid>-<random>`; readers and sweeps skip such names. */
export const TEMP_MARK = '.tmp-';

/** A fresh temporary sibling of `path` (same folder, so the rename never crosses a file system). */
export function tempSibling(path: string): string {
  return `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Remove `<path>.tmp-<pid>-*` left by writers of the same name that were killed (their pid is
 * gone; see stale-temps.ts): the next run that writes the name owns its leftovers.
 */
export async function removeDeadSiblings(path: string): Promise<string[]> {
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const prefix = `${basename(path)}${TEMP_MARK}`;
  return removeDeadTemps(
    dirname(path),
    names.filter((n) => n.startsWith(prefix)),
  );
}

/** True for temporary names and folders set aside by `replaceDir`, which readers ignore. */
export function isTransientName(name: string): boolean {
  return name.includes(TEMP_MARK) || /\.old-\d+-/.test(basename(name));
}

/** Write `bytes` to `path` and fsync it, so a later rename cannot expose a short file. */
export async function writeFileSynced(path: string, bytes: Uint8Array | string, mode?: number): Promise<void> {
  const fh = await open(path, 'w', mode);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so the names created or renamed in it survive a crash. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface AtomicWriteOptions {
  /** File mode of the new file (e.g. 0o755 for a script); default 0o666 less the umask. */
  mode?: number;
  /**
   * fsync the file before the rename and the folder after (default true), so the new name
   * survives a power loss too. Off only for files that are cheap to make again (fixtures).
   */
  durable?: boolean;
}

/** Write `data` to `path` atomically: a temp sibling, (fsync,) rename, (fsync the folder). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable ?? true;
  await commitTemp(path, durable, async (tmp) => {
    if (durable) return writeFileSynced(tmp, data, opts.mode);
    const fh = await open(tmp, 'w', opts.mode);
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  });
}

/**
 * Write the file `path` atomically when its bytes are produced by something that writes a file
 * itself (a stream pipeline, an encoder's toFile): `fill` writes the temporary sibling it is given,
 * which is then (fsynced and) renamed into place. On any failure the temporary file is removed and
 * `path` is untouched. Lets large outputs (contact sheets) stream to disk instead of being held
 * whole in memory for writeFileAtomic.
 */
export async function writeFileAtomicWith(path: string, fill: (tmp: string) => Promise<void>, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable ?? true;
  await commitTemp(path, durable, async (tmp) => {
    await fill(tmp);
    if (!durable) return;
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
}

/** The one write-then-rename: `write` fills (and, when durable, syncs) a temp sibling of `path`. */
async function commitTemp(path: string, durable: boolean, write: (tmp: string) => Promise<void>): Promise<void> {
  await removeDeadSiblings(path);
  const tmp = tempSibling(path);
  try {
    await write(tmp);
    faultPoint('atomic:before-rename');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dirname(path));
}

/**
 * Move folder `from` to `to`. An existing `to` is first renamed aside and removed after, so at no
 * moment does the final name hold a mix of old and new files (nor is it missing while another
 * reader looks).
 */
export async function replaceDir(from: string, to: string): Promise<void> {
  let aside: string | undefined;
  try {
    await stat(to);
    aside = `${to}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
    await rename(to, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // Another writer of the same folder (a requeued task racing an old one) may rename in between:
  // then the final name is taken again (ENOTEMPTY/EEXIST); set that one aside too and retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 3 || (code !== 'ENOTEMPTY' && code !== 'EEXIST')) throw err;
      const again = `${to}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      await rename(to, again).catch(() => undefined);
      await rm(again, { recursive: true, force: true });
    }
  }
  await syncDir(dirname(to));
  if (aside) await rm(aside, { recursive: true, force: true });
}

/**
 * Build folder `dir` atomically: `fill` writes into a fresh temporary sibling, which then replaces
 * `dir` (see `replaceDir`). On any failure the temporary folder is removed and `dir` is untouched.
 */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  // Not mkdir(recursive): under /proc that spun for minutes; ensureDir fails at once instead.
  await ensureDir(dirname(dir));
  await removeDeadSiblings(dir);
  const tmp = tempSibling(dir);
  await mkdir(tmp);
  try {
    await fill(tmp);
    await replaceDir(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
