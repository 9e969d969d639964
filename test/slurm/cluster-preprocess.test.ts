import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { waitForJobs } from '../../slurm/wait.js';
import { BIN, parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { bigFixture, untilWorking } from './helpers/big-fixture.js';
import { expectSameRecords } from './helpers/datasets.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

// Real one-host Slurm (CI: ../shared/tools/slurm-local.sh up). Each task asks for 1 CPU and
// little memory, so two tasks run at once on a 2-CPU node. Timeouts are generous because the
// machine is shared, but every wait is bounded.
const SLURM = ['--cpus-per-task', '1', '--mem', '1G', '--time', '00:15:00'];
const WAIT = ['--wait', '--wait-timeout', '420'];

let tmp: { dir: string; cleanup: () => Promise<void> };
let images: string, labels: string, single: string;

async function ok(r: CliResult): Promise<CliResult> {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** Run a printed shell command line exactly, with `retina` meaning this checkout's CLI. */
function runPrinted(line: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', `retina() { ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"; }\n${line}`], { timeout: 300_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }));
  });
}

describe.skipIf(!HAS_SBATCH)(`real Slurm: retina slurm preprocess${SKIP_REASON}`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    tmp = await tempDir('retina-slurm-e2e-');
    await ok(await runCli(['fixtures', '--out', join(tmp.dir, 'fx'), '--count', '80', '--seed', '11', '--size', '160x120']));
    images = join(tmp.dir, 'fx', 'train');
    labels = join(tmp.dir, 'fx', 'trainLabels.csv');
    single = join(tmp.dir, 'single');
    await ok(await runCli(['preprocess', '--images', images, '--labels', labels, '--out', single, '--format', 'raw', '--size', '32', '--threads', '1']));
    await ok(await runCli(['index', single]));
  }, 300_000);
  afterAll(async () => { await tmp?.cleanup(); });

  it('(a) a 4-task array over 80 images, submitted and waited for, equals a single-process run record for record', async () => {
    const out = join(tmp.dir, 'array 4'); // a space in the path: every argument must be quoted
    const r = await ok(await runCli(['slurm', 'preprocess', '--tasks', '4', '--format', 'raw', '--size', '32', '--images', images, '--labels', labels,
      '--out', out, ...SLURM, '--submit', ...WAIT, '--json'], { timeoutMs: 480_000 }));
    const body = parseJson<{ arrayJobId: string; indexJobId: string; tasks: number; script: string }>(r);
    expect(body.arrayJobId).toMatch(/^\d+$/);
    expect(body.indexJobId).toMatch(/^\d+$/);
    expect(body.tasks).toBe(4);
    expect(body.script).toContain('#SBATCH --array=0-3\n');
    expect(existsSync(join(out, 'manifest.json'))).toBe(true); // written by the index job
    expect(await expectSameRecords(out, single)).toBe(80);
    for (let t = 0; t < 4; t++) {
      const log = readFileSync(join(out, 'logs', `${body.arrayJobId}_${t}.out`), 'utf8');
      expect(log).toContain(`shard ${t}/4`);
      expect(log).toContain('retina: exit status 0');
    }
    expect(readFileSync(join(out, 'logs', `index-${body.indexJobId}.out`), 'utf8')).toContain('retina: exit status 0');
  });

  it('(c) an array numbered 1-4 (not starting at 0) gives the same dataset', async () => {
    const out = join(tmp.dir, 'offset');
    const r = await ok(await runCli(['slurm', 'preprocess', '--tasks', '4', '--array-offset', '1', '--format', 'raw', '--size', '32', '--images', images,
      '--labels', labels, '--out', out, ...SLURM, '--submit', ...WAIT, '--json'], { timeoutMs: 480_000 }));
    const body = parseJson<{ arrayJobId: string; script: string }>(r);
    expect(body.script).toContain('#SBATCH --array=1-4\n');
    expect(readdirSync(join(out, 'logs')).filter((f) => f.startsWith(`${body.arrayJobId}_`)).sort())
      .toEqual([1, 2, 3, 4].map((t) => `${body.arrayJobId}_${t}.out`));
    expect(await expectSameRecords(out, single)).toBe(80);
  });

  it('(b) a task cancelled mid-way leaves its shard missing; the command retina index prints resubmits it and completes the dataset', async () => {
    const { common, reference } = await bigFixture(tmp.dir);
    const out = join(tmp.dir, 'cancelled');
    const sub = parseJson<{ arrayJobId: string; indexJobId: string }>(await ok(await runCli(['slurm', 'preprocess', '--tasks', '2', ...common, '--out', out, ...SLURM, '--submit', '--json'])));
    const victim = `${sub.arrayJobId}_1`;
    const victimLog = join(out, 'logs', `${victim}.out`);
    await untilWorking(victim, victimLog, '1/2');
    await ok(await runSlurmTool('scancel', [victim]) as CliResult);
    const outcomes = await waitForJobs([0, 1].map((t) => ({ id: `${sub.arrayJobId}_${t}`, label: `shard ${t}`, log: '' })), { maxIntervalMs: 2000, timeoutMs: 300_000 });
    expect(outcomes.map((o) => o.state)).toEqual(['COMPLETED', 'CANCELLED']);
    const [index] = await waitForJobs([{ id: sub.indexJobId, label: 'index', log: '' }], { maxIntervalMs: 2000, timeoutMs: 120_000 });
    expect(index?.state).toBe('CANCELLED'); // its afterok dependency can never be met
    const victimText = readFileSync(victimLog, 'utf8');
    expect(victimText).toMatch(/retina: SIGTERM/); // the batch script's trap passed it on
    expect(victimText).not.toContain('retina: exit status 0');
    expect(existsSync(join(out, 'shards', 'shard-00001-of-00002'))).toBe(false);

    const idx = await runCli(['index', out]);
    expect(idx.code).not.toBe(0);
    const printed = `${idx.stdout}\n${idx.stderr}`;
    expect(printed).toMatch(/missing/);
    const line = printed.split('\n').map((l) => l.trim()).find((l) => l.startsWith('retina slurm preprocess '));
    expect(line, printed).toBeDefined();
    expect(line).toMatch(/ --only 1 --submit$/);
    expect(printed).toContain(join(out, 'logs', `${victim}.out`));

    const again = await runPrinted(line as string);
    expect(again.code, again.stderr).toBe(0);
    const ids = /array job (\d+)\nindex job (\d+)/.exec(again.stdout);
    expect(ids, again.stdout).not.toBeNull();
    const done = await waitForJobs([{ id: `${ids?.[1]}_1`, label: 'shard 1', log: '' }, { id: ids?.[2] as string, label: 'index', log: '' }], { maxIntervalMs: 2000, timeoutMs: 300_000 });
    expect(done.map((o) => o.state)).toEqual(['COMPLETED', 'COMPLETED']);
    await ok(await runCli(['index', out]));
    expect(await expectSameRecords(out, reference)).toBe(400);
  });

});
