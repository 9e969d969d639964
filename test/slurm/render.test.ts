import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planArray } from '../../slurm/array-spec.js';
import { slurmPreprocessArgv, type PreprocessJobSpec } from '../../slurm/preprocess-spec.js';
import { renderIndexScript, renderPreprocessScript, taskLogPath } from '../../slurm/render-preprocess.js';
import { renderTrainScript } from '../../slurm/render-train.js';
import { currentRetina, packageRoot } from '../../slurm/retina-invocation.js';
import { tempDir } from '../helpers/cli.js';

const RECORDER = fileURLToPath(new URL('./helpers/argv-recorder.mjs', import.meta.url));
const recorder = { node: process.execPath, script: RECORDER };

function spec(dataset: string, over: Partial<PreprocessJobSpec['plan']> = {}): PreprocessJobSpec {
  const resources = { jobName: "retina's job", cpusPerTask: 3, mem: '2G', time: '00:30:00', partition: 'cpu', account: 'lab-1' };
  return {
    plan: { ...planArray({ tasks: 4 }), ...over },
    preprocess: { format: 'lmdb', images: join(dataset, '..', 'my images'), labels: '/in/labels $x.csv', out: dataset, size: 64, skipInvalid: true },
    resources,
    indexResources: { ...resources, jobName: 'idx', cpusPerTask: 1, mem: '1G' },
  };
}

/** Run a rendered script's body with bash, as Slurm would, with the given array variables. */
function runScript(script: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, _o, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }));
  });
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => { tmp = await tempDir('retina-slurm-render-'); });
afterAll(async () => { await tmp.cleanup(); });

describe('renderPreprocessScript', () => {
  it('has every #SBATCH option the issue asks for', () => {
    const dataset = '/data/100% sure/lmdb';
    const s = renderPreprocessScript(spec(dataset, { throttle: 2 }), recorder);
    const directives = s.split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(directives).toEqual([
      '#SBATCH --array=0-3%2',
      '#SBATCH --job-name="retina\'s job"',
      '#SBATCH --cpus-per-task=3',
      '#SBATCH --mem=2G',
      '#SBATCH --time=00:30:00',
      '#SBATCH --partition=cpu',
      '#SBATCH --account=lab-1',
      '#SBATCH --output="/data/100%% sure/lmdb/logs/%A_%a.out"',
      '#SBATCH --error="/data/100%% sure/lmdb/logs/%A_%a.out"',
      '#SBATCH --open-mode=append',
      '#SBATCH --signal=B:TERM@120',
      '#SBATCH --requeue',
    ]);
    // Every #SBATCH line comes before the first command, or sbatch ignores it.
    const firstCommand = s.split('\n').findIndex((l) => l && !l.startsWith('#'));
    expect(s.split('\n').findLastIndex((l) => l.startsWith('#SBATCH'))).toBeLessThan(firstCommand);
    expect(s.startsWith('#!/bin/bash\n')).toBe(true);
  });

  it('renders --only shards and an offset as array task ids', () => {
    expect(renderPreprocessScript(spec('/d', planArray({ tasks: 8, only: [2, 5] })), recorder)).toContain('#SBATCH --array=2,5\n');
    expect(renderPreprocessScript(spec('/d', planArray({ tasks: 4, offset: 1 })), recorder)).toContain('#SBATCH --array=1-4\n');
  });

  it('is valid bash', () => {
    const s = renderPreprocessScript(spec('/d'), currentRetina());
    expect(() => execFileSync('bash', ['-n', '-c', s])).not.toThrow();
  });

  it('passes the flags through a real shell exactly, with the shard from the array id and threads from Slurm', async () => {
    const dataset = join(tmp.dir, "it's a data set");
    for (const [offset, taskId, shard] of [[0, 2, 2], [1, 1, 0], [1, 4, 3], [10, 13, 3]] as const) {
      const s = renderPreprocessScript(spec(dataset, planArray({ tasks: 4, offset })), recorder);
      const record = join(tmp.dir, `argv-${offset}-${taskId}.json`);
      const r = await runScript(s, { SLURM_ARRAY_TASK_ID: String(taskId), SLURM_CPUS_PER_TASK: '5', RECORD_ARGV: record });
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual([
        'preprocess', '--format', 'lmdb', '--images', join(tmp.dir, 'my images'), '--labels', '/in/labels $x.csv', '--out', dataset,
        '--size', '64', '--skip-invalid', '--shard', `${shard}/4`, '--threads', '5',
      ]);
    }
  });

  it('uses --cpus-per-task for threads when SLURM_CPUS_PER_TASK is unset, and refuses to run outside an array', async () => {
    const s = renderPreprocessScript(spec(tmp.dir), recorder);
    const record = join(tmp.dir, 'argv-nocpus.json');
    expect((await runScript(s, { SLURM_ARRAY_TASK_ID: '0', RECORD_ARGV: record })).code).toBe(0);
    expect(JSON.parse(readFileSync(record, 'utf8')).slice(-2)).toEqual(['--threads', '3']);
    const outside = await runScript(s, { RECORD_ARGV: record });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('submit this script with sbatch');
  });

  it('forwards SIGTERM to retina and exits with retina\'s own status', async () => {
    const s = renderPreprocessScript(spec(tmp.dir), recorder);
    const record = join(tmp.dir, 'argv-term.json');
    const child = spawn('bash', ['-c', s], { env: { PATH: process.env.PATH ?? '', SLURM_ARRAY_TASK_ID: '1', RECORD_ARGV: record, RECORD_WAIT_TERM: '1' }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(record + '.ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM'); // what --signal=B:TERM@120 does: the batch shell only
    expect(await exited).toBe(7);
    expect(readFileSync(record + '.term', 'utf8')).toBe('TERM');
  });

  it('names the log of each task after the array job and task id', () => {
    expect(taskLogPath('/d', '12', 3)).toBe('/d/logs/12_3.out');
  });
});

describe('renderIndexScript', () => {
  it('runs retina index on the dataset after the array, cancelled if the array fails', async () => {
    const dataset = join(tmp.dir, 'a b');
    const s = renderIndexScript(spec(dataset), recorder, '77');
    expect(s).toContain('#SBATCH --dependency=afterok:77\n');
    expect(s).toContain('#SBATCH --kill-on-invalid-dep=yes\n');
    expect(s).toContain('#SBATCH --job-name=idx\n');
    expect(renderIndexScript(spec(dataset), recorder)).not.toContain('#SBATCH --dependency');
    const record = join(tmp.dir, 'argv-index.json');
    expect((await runScript(s, { RECORD_ARGV: record })).code).toBe(0);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual(['index', dataset]);
  });
});

describe('renderTrainScript', () => {
  it('passes train flags through and asks for GPUs', async () => {
    const s = renderTrainScript({
      train: { source: 'lmdb', data: '/d s', model: 'small-cnn', epochs: 2, out: '/runs/r 1', cacheFeatures: false, fineTune: true },
      resources: { jobName: 't', cpusPerTask: 2, mem: '4G', time: '10', gpus: 2 },
      logDir: '/d s/logs',
    }, recorder);
    expect(s).toContain('#SBATCH --gres=gpu:2\n');
    expect(s).toContain('#SBATCH --output="/d s/logs/train-%j.out"\n');
    const record = join(tmp.dir, 'argv-train.json');
    expect((await runScript(s, { SLURM_JOB_ID: '5', RECORD_ARGV: record })).code).toBe(0);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual([
      'train', '--source', 'lmdb', '--data', '/d s', '--model', 'small-cnn', '--fine-tune', '--epochs', '2', '--out', '/runs/r 1', '--no-cache-features',
    ]);
  });
});

describe('slurmPreprocessArgv', () => {
  it('records the flags that render the same job again', () => {
    const s = spec('/d', planArray({ tasks: 4, offset: 1, throttle: 2 }));
    expect(slurmPreprocessArgv(s)).toEqual([
      '--tasks', '4', '--array-offset', '1', '--throttle', '2', '--format', 'lmdb', '--images', '/my images', '--labels', '/in/labels $x.csv',
      '--out', '/d', '--size', '64', '--skip-invalid', '--cpus-per-task', '3', '--mem', '2G', '--time', '00:30:00', '--partition', 'cpu',
      '--account', 'lab-1', '--job-name', "retina's job",
    ]);
  });
});

describe('currentRetina', () => {
  it('points at this package\'s bin/run.js and this node', () => {
    const r = currentRetina();
    expect(r.node).toBe(process.execPath);
    expect(r.script).toBe(join(packageRoot(), 'bin', 'run.js'));
    expect(existsSync(r.script)).toBe(true);
    writeFileSync(join(tmp.dir, 'x'), '');
    expect(() => packageRoot(join(tmp.dir, 'x'))).toThrow(/bin\/run.js/);
  });
});

describe('small pieces', () => {
  it('renders --sbatch-option lines verbatim after the standard ones', () => {
    const s = spec('/d');
    s.resources = { ...s.resources, extra: ['--qos=high', '--constraint=avx2'] };
    const lines = renderPreprocessScript(s, recorder).split('\n').filter((l) => l.startsWith('#SBATCH'));
    expect(lines.slice(-2)).toEqual(['#SBATCH --qos=high', '#SBATCH --constraint=avx2']);
  });

  it('names the index script beside the array script', async () => {
    const { indexScriptPath } = await import('../../slurm/preprocess-job.js');
    expect(indexScriptPath('/x/prep.sbatch')).toBe('/x/prep.index.sbatch');
    expect(indexScriptPath('/x/prep')).toBe('/x/prep.index.sbatch');
  });

  it('makes paths absolute and refuses odd format names', async () => {
    const { resolvePreprocessFlags } = await import('../../slurm/preprocess-spec.js');
    const { defaultDatasetDir } = await import('../../src/defaults.js');
    const { defaultTrainLogDir, resolveTrainFlags } = await import('../../slurm/render-train.js');
    expect(resolvePreprocessFlags({ format: 'lmdb', images: 'train', labels: 'l.csv', out: '../o' }, '/w/x')).toMatchObject({ images: '/w/x/train', labels: '/w/x/l.csv', out: '/w/o' });
    expect(() => resolvePreprocessFlags({ format: 'lm db', images: 'a', labels: 'b', out: 'c' })).toThrow(/--format/);
    expect(defaultDatasetDir('raw', '/w')).toBe('/w/retina-data/raw');
    expect(defaultTrainLogDir({ source: 'lmdb' }, '/w')).toBe('/w/retina-data/lmdb/logs');
    expect(defaultTrainLogDir({ source: 'lmdb', data: '/d' }, '/w')).toBe('/d/logs');
    expect(defaultTrainLogDir({ source: 'images' }, '/w')).toBe('/w/logs');
    expect(resolveTrainFlags({ source: 'raw', out: 'runs/a', cacheDir: 'c' }, '/w')).toMatchObject({ out: '/w/runs/a', cacheDir: '/w/c' });
    expect(() => resolveTrainFlags({ source: '$(id)' })).toThrow(/--source/);
  });

  it('gives short time limits a shorter SIGTERM lead', () => {
    const s = spec('/d');
    s.resources = { ...s.resources, time: '4' };
    expect(renderPreprocessScript(s, recorder)).toContain('#SBATCH --signal=B:TERM@60\n');
  });
});
