import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RetinaError } from './errors.js';

/**
 * Create a folder and its missing parents, one level at a time, failing at once with a clear
 * error. Node's `mkdir(p, { recursive: true })` spun at 86 % CPU for minutes under /proc (mkdir
 * there answers ENOENT for a parent that exists, and Node retried forever); here each level is
 * tried once.
 */
export async function ensureDir(path: string, what = 'the output folder'): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    try {
      const s = await stat(p);
      if (!s.isDirectory()) throw unwritable(target, what, `${p} is not a folder`);
      break;
    } catch (err) {
      if (err instanceof RetinaError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw unwritable(target, what, `${p} cannot be examined (${code})`, err);
      missing.push(p);
      if (dirname(p) === p) throw unwritable(target, what, 'no part of the path exists');
      p = dirname(p);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // made by a concurrent run: fine if it is a folder
        if ((await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      }
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new RetinaError('DISK_FULL', `No space left to create ${dir}`, { location: { file: dir }, hint: 'Free space, then rerun.', cause: err });
      }
      throw unwritable(
        target,
        what,
        `${dir} cannot be created (${code ?? (err as Error).message}${code === 'ENOENT' ? ': its parent does not accept new folders' : ''})`,
        err,
      );
    }
  }
  await checkWritableDir(target, what);
}

/**
 * Fail early (before any work) when `path` could not be created or written: its nearest existing
 * ancestor must be a folder this process may write. Creates nothing.
 */
export async function checkWritableDir(path: string, what = 'the output folder'): Promise<void> {
  const target = resolve(path);
  for (let p = target; ; p = dirname(p)) {
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw unwritable(target, what, `${p} cannot be examined (${code})`, err);
      if (dirname(p) === p) throw unwritable(target, what, 'no part of the path exists');
      continue;
    }
    if (!s.isDirectory()) throw unwritable(target, what, `${p} is not a folder`);
    try {
      await access(p, constants.W_OK);
    } catch (err) {
      throw unwritable(target, what, `${p} is not writable (${(err as NodeJS.ErrnoException).code})`, err);
    }
    return;
  }
}

function unwritable(target: string, what: string, why: string, cause?: unknown): RetinaError {
  return new RetinaError('BAD_ARGUMENT', `Cannot write ${what} ${target}: ${why}`, {
    location: { file: target },
    hint: 'Choose a folder you can write (e.g. --out ./retina-data/NAME).',
    ...(cause === undefined ? {} : { cause }),
  });
}
