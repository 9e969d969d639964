import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RetinaError, isRetinaErrorCode, type RetinaErrorCode } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { packageRoot } from '../../slurm/retina-invocation.js';
import { torchTrainArgv, type TorchTrainFlags } from './torch-argv.js';
import type { TrainResult } from './train-types.js';

/** Debian's interpreter: the one with python3-torch, -torchvision, -numpy, -lmdb... from apt. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** `retina train --engine torch --json`: retina train's fields plus where and how it ran. */
export interface TorchTrainResult extends Omit<TrainResult, 'model'> {
  model: string;
  engine: 'torch';
  worldSize: number;
  device: string;
  distBackend: string | null;
}

/** The interpreter: the flag, else RETINA_PYTHON, else Debian's python3. */
export function pythonInterpreter(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env['RETINA_PYTHON'] || DEFAULT_PYTHON);
}

/** The folder holding the `retina_data` package (goes on PYTHONPATH). */
export function pythonPackageDir(root: string = packageRoot()): string {
  const dir = join(root, 'python');
  if (!existsSync(join(dir, 'retina_data', 'train.py'))) {
    throw new RetinaError('NOT_FOUND', `The retina_data Python package is not in ${dir}`, {
      location: { file: dir }, hint: 'Install retina from its repository or package (python/ ships with it).',
    });
  }
  return dir;
}

/** PYTHONPATH with retina's package first. */
export function withPythonPath(env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv {
  const prev = env['PYTHONPATH'];
  return { ...env, PYTHONPATH: prev ? `${dir}:${prev}` : dir };
}

const EXIT_TO_CODE: Record<number, RetinaErrorCode> = {
  2: 'BAD_ARGUMENT', 3: 'BAD_INPUT', 4: 'NOT_FOUND', 5: 'CORRUPT', 6: 'INCOMPLETE', 7: 'EXISTS', 8: 'UNSUPPORTED', 9: 'EXTERNAL', 130: 'ABORTED',
};

export interface TorchTrainOptions extends TorchTrainFlags {
  python?: string | undefined;
  logLevel?: string | undefined;
  logger?: Logger;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

function checkResult(v: unknown): TorchTrainResult {
  const o = v as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || !Array.isArray(o['epochs']) || o['engine'] !== 'torch' || typeof o['worldSize'] !== 'number' || typeof o['out'] !== 'string') {
    throw new RetinaError('EXTERNAL', 'python -m retina_data.train printed a result without epochs, engine, worldSize or out', {
      hint: 'The Python package and this retina differ in version; reinstall both from one checkout.',
    });
  }
  return o as unknown as TorchTrainResult;
}

/**
 * One training process of the PyTorch engine: `PYTHON -m retina_data.train ... --json`, its log on
 * our stderr, its result from its stdout. SIGINT/SIGTERM are passed on: it stops at the next step
 * and keeps its last checkpoint. Its exit status maps back to retina's error codes.
 */
export async function trainWithTorch(opts: TorchTrainOptions): Promise<TorchTrainResult> {
  const log = opts.logger ?? silentLogger;
  const python = pythonInterpreter(opts.python, opts.env);
  const dir = pythonPackageDir();
  const flags: TorchTrainFlags = { ...opts };
  for (const k of ['data', 'images', 'labels', 'weights', 'out'] as const) if (flags[k] !== undefined) flags[k] = resolve(flags[k]!);
  const argv = ['-m', 'retina_data.train', ...torchTrainArgv(flags), '--json', '--log-level', opts.logLevel ?? 'info'];
  log.debug(`torch engine: ${python} ${argv.join(' ')}`);
  const child = spawn(python, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: withPythonPath({ ...process.env, ...opts.env }, dir) });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const onAbort = () => child.kill('SIGTERM');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const status = await new Promise<number>((ok, fail) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(new RetinaError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'EXTERNAL', `Cannot start ${python}: ${err.message}`, {
        location: { file: python }, cause: err,
        hint: 'Install Debian\'s python3 with python3-torch and python3-torchvision, or name an interpreter that has them with --python or RETINA_PYTHON.',
      }));
    });
    child.once('close', (code, sig) => ok(code ?? (sig ? 128 + 15 : 1)));
  }).finally(() => opts.signal?.removeEventListener('abort', onAbort));
  if (status !== 0) {
    const code = EXIT_TO_CODE[status];
    throw new RetinaError(code !== undefined && isRetinaErrorCode(code) ? code : 'EXTERNAL',
      `The torch trainer (${python} -m retina_data.train) exited with status ${status}; its message is above`, {
        hint: status === 1 ? 'An unexpected Python error: its traceback is above.' : 'Fix what its message names and run again; a checkpoint in the run folder is resumed.',
      });
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new RetinaError('EXTERNAL', `The torch trainer printed no JSON result (stdout: ${JSON.stringify(stdout.slice(-200))})`, { cause: err });
  }
  return checkResult(parsed);
}
