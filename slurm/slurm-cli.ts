import { spawn } from 'node:child_process';
import { RetinaError } from '../src/core/errors.js';
import { explainRefusal } from './cluster-nodes.js';

/** What a Slurm client program printed. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a Slurm client (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`) with `args`, feeding
 * `input` on stdin. A missing program is a RetinaError EXTERNAL naming PATH; a non-zero exit is
 * returned, not thrown, because callers decide what it means (sacct fails when accounting is off).
 */
export function runSlurmTool(
  tool: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; direct?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // slurmctld down makes clients retry for a long time; bound every call.
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 120_000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') reject(missingTool(tool, opts.env ?? process.env, opts.direct ?? 'retina preprocess', err));
      else reject(new RetinaError('EXTERNAL', `Could not run ${tool}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a tool that exits early closes its stdin; the exit status tells
    child.stdin.end(opts.input ?? '');
  });
}

function missingTool(tool: string, env: NodeJS.ProcessEnv, direct: string, cause: unknown): RetinaError {
  const what = tool === 'sbatch' ? `install Slurm or run ${direct} directly` : 'install the Slurm client tools';
  return new RetinaError('EXTERNAL', `${tool} not found on PATH: ${env.PATH ?? '(PATH unset)'}; ${what}`, {
    hint: 'Run this on a Slurm login node, or leave out --submit to print the script and submit it elsewhere.',
    cause,
  });
}

/**
 * Submit `script` with `sbatch --parsable [extra]` through stdin and return the job id. With
 * `--parsable` sbatch prints `ID` or `ID;CLUSTER`. `direct` names the command to run instead
 * when Slurm is missing.
 */
export async function sbatch(script: string, extra: readonly string[] = [], env?: NodeJS.ProcessEnv, direct = 'retina preprocess'): Promise<string> {
  const r = await runSlurmTool('sbatch', ['--parsable', ...extra], env === undefined ? { input: script, direct } : { input: script, env, direct });
  if (r.code !== 0) {
    // A partition or node request the cluster cannot meet is the user's to fix: say what it has.
    const why = await explainRefusal(r.stderr, env);
    if (why) throw new RetinaError('BAD_ARGUMENT', `${why.message}\nsbatch said: ${r.stderr.trim()}`, { hint: why.hint });
    throw new RetinaError('EXTERNAL', `sbatch refused the job (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, {
      hint: 'Check partition, account, memory and time against your site\'s limits (sinfo, sacctmgr show assoc); print the script without --submit to inspect it.',
    });
  }
  const id = parseParsable(r.stdout);
  if (id === undefined) throw new RetinaError('EXTERNAL', `sbatch --parsable printed no job id: ${JSON.stringify(r.stdout)}`);
  return id;
}

/** The job id of `sbatch --parsable` output (`12345` or `12345;cluster`), or undefined. */
export function parseParsable(stdout: string): string | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  const id = line.split(';')[0]?.trim() ?? '';
  return /^\d+$/.test(id) ? id : undefined;
}
