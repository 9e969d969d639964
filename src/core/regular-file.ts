import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { RetinaError } from './errors.js';

/**
 * Inputs are read only from regular files, up to a size cap. A symlink to /dev/zero grew memory
 * without end and a FIFO blocked a libuv thread forever (so SIGTERM could not finish the run):
 * the file is opened O_NONBLOCK (opening a FIFO then returns at once instead of waiting for a
 * writer) and its type checked on the open descriptor, so nothing is read from anything else.
 */

/** Largest input file read (the biggest Kaggle original is ~8 MB); RETINA_MAX_INPUT_BYTES overrides. */
export const DEFAULT_MAX_INPUT_BYTES = 256 << 20;

export function maxInputBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.RETINA_MAX_INPUT_BYTES;
  return v !== undefined && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : DEFAULT_MAX_INPUT_BYTES;
}

function kindOf(s: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  return s.isFIFO()
    ? 'a FIFO'
    : s.isCharacterDevice()
      ? 'a character device'
      : s.isBlockDevice()
        ? 'a block device'
        : s.isSocket()
          ? 'a socket'
          : s.isDirectory()
            ? 'a folder'
            : 'not a regular file';
}

/**
 * Open `path` for reading if it is a regular file of at most `maxBytes`; returns the handle and
 * its size. BAD_INPUT naming the file otherwise (NOT_FOUND when it does not exist).
 */
export async function openRegularFile(path: string, maxBytes = maxInputBytes()): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RetinaError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `${path} cannot be opened (${code ?? (err as Error).message})`, {
      location: { file: path },
      cause: err,
    });
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) {
      throw new RetinaError('BAD_INPUT', `${path} is ${kindOf(s)}, not a regular file: only regular files are read as images`, {
        location: { file: path },
        hint: 'Replace it with the image file (a symlink to a regular file is fine), or pass --skip-invalid.',
      });
    }
    if (s.size > maxBytes) {
      throw new RetinaError('BAD_INPUT', `${path} is ${s.size} bytes, more than the ${maxBytes} an input file may have`, {
        location: { file: path },
        hint: 'Check the file; raise the cap with RETINA_MAX_INPUT_BYTES if it really is an image.',
      });
    }
    return { fh, size: s.size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
