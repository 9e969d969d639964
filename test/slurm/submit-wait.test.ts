import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetinaError } from '../../src/core/errors.js';
import { planArray } from '../../slurm/array-spec.js';
import { readJobRecord } from '../../slurm/job-record.js';
import { slurmPreprocess } from '../../slurm/preprocess-job.js';
import type { PreprocessJobSpec } from '../../slurm/preprocess-spec.js';
import { renderPreprocessScript } from '../../slurm/render-preprocess.js';
import { currentRetina } from '../../slurm/retina-invocation.js';
import { runSlurmTool, sbatch } from '../../slurm/slurm-cli.js';
import { pollStates, waitForJobs } from '../../slurm/wait.js';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { HAS_SBATCH, SKIP_REASON, TINY } from './helpers/slurm.js';
import { makeFixtures } from '../helpers/train-data.js';

const RECORDER = fileURLToPath(new URL('./helpers/argv-recorder.mjs', import.meta.url));
const recorder = { node: process.execPath, script: RECORDER };

let tmp: { dir: string; cleanup: () => Promise<void> };
/** An images folder and labels file that pass preprocess's checks (submission runs them; the recorder ignores them). */
let inputs: string[];
beforeAll(async () => {
  tmp = await tempDir('retina-slurm-submit-');
  // Real rows and images: submission runs preprocess's own checks first (an empty CSV fails them).
  await makeFixtures(join(tmp.dir, 'in'), 4, 3, { width: 64, height: 48 });
  inputs = ['--images', join(tmp.dir, 'in', 'train'), '--labels', join(tmp.dir, 'in', 'trainLabels.csv')];
});
afterAll(async () => { await tmp.cleanup(); });

function spec(dataset: string, tasks = 3): PreprocessJobSpec {
  const resources = { jobName: 'retina-test', ...TINY };
  return {
    plan: planArray({ tasks }),
    preprocess: { format: 'raw', images: join(tmp.dir, 'in', 'train'), labels: join(tmp.dir, 'in', 'trainLabels.csv'), out: dataset },
    resources,
    indexResources: { ...resources, jobName: 'retina-test-index' },
  };
}

describe('without Slurm', () => {
  it('says clearly that sbatch is missing (EXTERNAL, exit 9)', async () => {
    const err = await sbatch('#!/bin/bash\ntrue\n', [], { PATH: '/nonexistent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetinaError);
    expect((err as RetinaError).code).toBe('EXTERNAL');
    expect((err as RetinaError).message).toMatch(/^sbatch not found on PATH: \/nonexistent; install Slurm or run retina preprocess directly/);
    const r = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', ...inputs, '--out', join(tmp.dir, 'x'), '--submit'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain('sbatch not found on PATH');
    const t = await runCli(['slurm', 'train', '--source', 'raw', '--data', join(tmp.dir, 'x'), '--submit'], { env: { PATH: '/nonexistent' } });
    expect(t.code).toBe(9);
    expect(t.stderr).toContain('sbatch not found on PATH: /nonexistent; install Slurm or run retina train directly');
  });

  it('refuses to submit when the images folder or labels file is missing, naming it', async () => {
    const r = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', '--images', join(tmp.dir, 'in', 'train'), '--labels', join(tmp.dir, 'none.csv'),
      '--out', join(tmp.dir, 'y'), '--submit']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`--labels: no file at ${join(tmp.dir, 'none.csv')}; nothing was submitted`);
    expect(existsSync(join(tmp.dir, 'y'))).toBe(false);
  });

  it('prints both scripts without --submit, writes them with --script, and refuses --wait alone', async () => {
    const r = await runCli(['slurm', 'preprocess', '--tasks', '3', '--format', 'raw', '--out', join(tmp.dir, 'p q'), '--throttle', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('#SBATCH --array=0-2%2');
    expect(r.stdout).toContain('"$NODE" "${NODE_FLAGS[@]}" "$RETINA" index "$DATASET"');
    const file = join(tmp.dir, 'scripts', 'prep.sbatch');
    const w = await runCli(['slurm', 'preprocess', '--tasks', '3', '--format', 'raw', '--out', join(tmp.dir, 'p q'), '--script', file, '--json']);
    expect(w.code).toBe(0);
    const body = JSON.parse(w.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({ arrayJobId: null, indexJobId: null, tasks: 3, scriptFile: file, indexScriptFile: join(tmp.dir, 'scripts', 'prep.index.sbatch') });
    expect(readFileSync(file, 'utf8')).toBe(body.script);
    expect(readFileSync(join(tmp.dir, 'scripts', 'prep.index.sbatch'), 'utf8')).toBe(body.indexScript);
    const bad = await runCli(['slurm', 'preprocess', '--tasks', '3', '--format', 'raw', '--wait']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--submit/);
    const only = await runCli(['slurm', 'preprocess', '--tasks', '3', '--format', 'raw', '--only', '3']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('from 0 to 2');
  });
});

describe('retina slurm train without --submit', () => {
  it('prints the script with the train flags, logs under DATASET/logs, GPUs as --gres', async () => {
    const data = join(tmp.dir, 'ds x');
    const r = await runCli(['slurm', 'train', '--source', 'lmdb', '--data', data, '--model', 'small-cnn', '--epochs', '2', '--gpus', '1', '--no-cache-features', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as { jobId: null; script: string };
    expect(body.jobId).toBeNull();
    expect(body.script).toContain('#SBATCH --gres=gpu:1\n');
    expect(body.script).toContain(`#SBATCH --output="${data}/logs/train-%j.out"\n`);
    expect(body.script).toContain(`train --source lmdb --data '${data}' --model small-cnn --epochs 2 --no-cache-features &`);
    const bad = await runCli(['slurm', 'train', '--source', 'lmdb', '--time', '1h']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--time');
  });
});

describe(`real Slurm: submission and waiting${SKIP_REASON}`, { timeout: 240_000 }, () => {
  it.skipIf(!HAS_SBATCH)('sbatch --test-only accepts the rendered scripts', async () => {
    for (const script of [renderPreprocessScript(spec(join(tmp.dir, "sp ace's 100%")), currentRetina())]) {
      const r = await runSlurmTool('sbatch', ['--test-only'], { input: script });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/to start at/);
    }
  });

  it.skipIf(!HAS_SBATCH)('waits for a plain array, reporting each task and naming the failed one', async () => {
    const logs = join(tmp.dir, 'plain');
    const script = [
      '#!/bin/bash', '#SBATCH --array=0-2', `#SBATCH --cpus-per-task=1`, `#SBATCH --mem=${TINY.mem}`, `#SBATCH --output=${logs}/%A_%a.out`,
      'sleep 1; [ "$SLURM_ARRAY_TASK_ID" != 1 ] || exit 3',
    ].join('\n');
    await import('node:fs/promises').then((fs) => fs.mkdir(logs, { recursive: true }));
    const id = await sbatch(script);
    const lines: string[] = [];
    const logger = { debug: () => {}, info: (m: string) => lines.push(m), warn: () => {}, error: () => {}, level: 'info' as const };
    const outcomes = await waitForJobs([0, 1, 2].map((t) => ({ id: `${id}_${t}`, label: `task ${t}`, log: `${logs}/${id}_${t}.out` })), { logger, maxIntervalMs: 2000, timeoutMs: 180_000 });
    expect(outcomes.map((o) => [o.id, o.state])).toEqual([[`${id}_0`, 'COMPLETED'], [`${id}_1`, 'FAILED'], [`${id}_2`, 'COMPLETED']]);
    expect(outcomes[1]?.detail).toContain('exit 3:0');
    expect(lines).toContain(`task 1 [${id}_1]: FAILED (NonZeroExitCode)`);
    expect(lines.at(-1)).toBe('slurm: 2/3 done, 0 running, 0 waiting, 1 failed');
  });

  it.skipIf(!HAS_SBATCH)('an unreachable controller is not taken as the jobs being gone', async () => {
    // The same cluster config with the controller's port changed: squeue really fails to connect.
    const conf = join(tmp.dir, 'unreachable.conf');
    const real = readFileSync(process.env.SLURM_CONF ?? '/etc/slurm/slurm.conf', 'utf8');
    await writeFile(conf, real.replace(/^SlurmctldPort=.*$/m, '') + '\nSlurmctldPort=6999\n');
    const env = { ...process.env, SLURM_CONF: conf };
    const polled = await pollStates(['1_0'], env);
    expect(polled).toEqual({ rows: new Map(), trusted: false });
    // Waiting then times out (INCOMPLETE) instead of declaring the job lost (UNKNOWN).
    const err = await waitForJobs([{ id: '1_0', label: 'x', log: '' }], { env, timeoutMs: 1, minIntervalMs: 10 }).catch((e: unknown) => e);
    expect((err as RetinaError).code).toBe('INCOMPLETE');
  }, 120_000);

  it.skipIf(!HAS_SBATCH)('gives up waiting after --wait-timeout without cancelling', async () => {
    const id = await sbatch('#!/bin/bash\n#SBATCH --cpus-per-task=1\n#SBATCH --mem=50M\n#SBATCH --output=/dev/null\nsleep 20\n');
    const err = await waitForJobs([{ id, label: 'sleeper', log: '/dev/null' }], { timeoutMs: 1500, minIntervalMs: 200 }).catch((e: unknown) => e);
    expect((err as RetinaError).code).toBe('INCOMPLETE');
    const q = await runSlurmTool('squeue', ['-h', '-j', id, '-o', '%T']);
    expect(q.stdout.trim()).toMatch(/PENDING|RUNNING/);
    await runSlurmTool('scancel', [id]);
  });

  it.skipIf(!HAS_SBATCH)('Ctrl-C during --wait stops waiting (exit 130) and leaves the jobs queued', async () => {
    const out = join(tmp.dir, 'held');
    // --begin keeps the tasks pending, so the wait is still going when SIGINT arrives.
    const child = spawn(process.execPath, [BIN, 'slurm', 'preprocess', '--tasks', '2', '--format', 'raw', ...inputs, '--out', out, '--cpus-per-task', '1', '--mem', '100M',
      '--sbatch-option=--begin=now+600', '--submit', '--wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!/waiting/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Stopped waiting; the Slurm jobs keep running');
    const arrayJobId = (await readJobRecord(out))?.submissions[0]?.arrayJobId as string;
    const q = await runSlurmTool('squeue', ['-h', '-r', '-j', arrayJobId, '-o', '%T']);
    expect(q.stdout.trim().split('\n')).toEqual(['PENDING', 'PENDING']);
    await runSlurmTool('scancel', [arrayJobId]);
  });

  it.skipIf(!HAS_SBATCH)('submits the array then the index job (afterok), records the flags, and reports a failed task with the resubmit command', async () => {
    const dataset = join(tmp.dir, 'data set');
    const record = join(tmp.dir, 'rec-{id}.json');
    const env = { ...process.env, RECORD_ARGV: record, RECORD_FAIL_SHARD: '' };
    const ok = await slurmPreprocess({ spec: spec(dataset), submit: true, wait: true, retina: recorder, env, waitOptions: { maxIntervalMs: 2000, timeoutMs: 180_000 } });
    expect(ok.arrayJobId).toMatch(/^\d+$/);
    expect(ok.indexJobId).toMatch(/^\d+$/);
    expect(ok.outcomes?.map((o) => o.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (const t of [0, 1, 2]) expect(JSON.parse(readFileSync(record.replace('{id}', String(t)), 'utf8'))).toContain(`${t}/3`);
    expect(JSON.parse(readFileSync(record.replace('{id}', ok.indexJobId as string), 'utf8'))).toEqual(['index', dataset]);
    expect(existsSync(join(dataset, 'logs', `${ok.arrayJobId}_0.out`))).toBe(true);
    const rec = await readJobRecord(dataset);
    expect(rec?.submissions).toHaveLength(1);

    // An external failure (exit 9) may pass on a second try: the hint resubmits only that shard.
    const err = await slurmPreprocess({ spec: spec(dataset), submit: true, wait: true, retina: recorder, env: { ...env, RECORD_FAIL_SHARD: '1/3', RECORD_FAIL_EXIT: '9' }, waitOptions: { maxIntervalMs: 2000, timeoutMs: 180_000 } })
      .catch((e: unknown) => e) as RetinaError;
    expect(err.code).toBe('INCOMPLETE');
    expect(err.message).toMatch(/1 of 3 tasks did not complete/);
    expect(err.message).toMatch(/shard 1\/3 \[\d+_1\] FAILED \(NonZeroExitCode, exit 9:0\); log: .*\/data set\/logs\/\d+_1\.out/);
    expect(err.hint).toContain(`--only 1 --submit`);
    const second = (await readJobRecord(dataset))?.submissions;
    expect(second).toHaveLength(2);

    // Bad input (exit 3) fails the same way again: the task's own error, and no --only hint.
    const again = await slurmPreprocess({ spec: spec(dataset), submit: true, wait: true, retina: recorder, env: { ...env, RECORD_FAIL_SHARD: '2/3', RECORD_FAIL_EXIT: '3' }, waitOptions: { maxIntervalMs: 2000, timeoutMs: 180_000 } })
      .catch((e: unknown) => e) as RetinaError;
    expect(again.code).toBe('INCOMPLETE');
    expect(again.message).toContain('shard 2/3 failed with an error that resubmitting would repeat:\nError [BAD_INPUT]: recorder: failing shard 2/3 on purpose');
    expect(again.hint).toContain('this is the recorder\'s own hint');
    expect(again.hint).not.toContain('--only');
    // The index job's dependency can never be met: Slurm cancels it rather than leave it pending.
    const [index] = await waitForJobs([{ id: second?.[1]?.indexJobId as string, label: 'index', log: '' }], { maxIntervalMs: 2000, timeoutMs: 60_000 });
    expect(index?.state).toBe('CANCELLED');
  });
});
