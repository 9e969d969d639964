import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { BIN, tempDir, type CliResult } from '../helpers/cli.js';
import { bigFixture, untilWorking } from './helpers/big-fixture.js';
import { expectSameRecords } from './helpers/datasets.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

// Its own file: most of its time is Slurm's requeue delay, so it runs beside the other suites.
const SLURM = ['--cpus-per-task', '1', '--mem', '1G', '--time', '00:15:00'];
const WAIT = ['--wait', '--wait-timeout', '420'];

let tmp: { dir: string; cleanup: () => Promise<void> };

async function ok(r: CliResult): Promise<CliResult> {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

describe.skipIf(!HAS_SBATCH)(`real Slurm: requeue${SKIP_REASON}`, { timeout: 600_000 }, () => {
  beforeAll(async () => { tmp = await tempDir('retina-slurm-requeue-'); });
  afterAll(async () => { await tmp?.cleanup(); });

  it('(e) requeue-safe: a task requeued mid-way reruns, --wait follows it, and the dataset is still equal to a single run', async () => {
    const { common, reference } = await bigFixture(tmp.dir);
    const out = join(tmp.dir, 'requeued');
    const child = spawn(process.execPath, [BIN, 'slurm', 'preprocess', '--tasks', '2', ...common, '--out', out, ...SLURM, '--submit', ...WAIT, '--json', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    let arrayJobId: string | undefined;
    while (arrayJobId === undefined) {
      arrayJobId = /submitted array job (\d+)/.exec(stderr)?.[1];
      expect(Date.now(), stderr).toBeLessThan(deadline);
      await sleep(100);
    }
    const victim = `${arrayJobId}_1`;
    const victimLog = join(out, 'logs', `${victim}.out`);
    await untilWorking(victim, victimLog, '1/2');
    await ok(await runSlurmTool('scontrol', ['requeue', victim]) as CliResult);
    // Slurm holds a requeued job back for about two minutes (BeginTime: until the old instance's
    // job credential expires). Forcing an earlier start on this one-node cluster makes slurmd
    // refuse the launch ("Job credential revoked"), so the test waits it out; --wait must follow.
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/shard 1\/2 \[\d+_1\]: PENDING \(BeginTime\)/); // --wait saw the requeue and kept waiting
    const body = JSON.parse(stdout) as { outcomes: { id: string; state: string }[] };
    expect(body.outcomes.map((o) => o.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const log = readFileSync(victimLog, 'utf8');
    expect(log).toContain('(restart 0)');
    expect(log).toContain('(restart 1)'); // --open-mode=append kept the first attempt's lines
    expect(log).toContain('retina: exit status 0');
    expect(await expectSameRecords(out, reference)).toBe(400);
  });
});
