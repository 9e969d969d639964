import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { BIN, parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { CLUSTER_ENV, CLUSTER_HOSTS, CLUSTER_SKIP, HAS_CLUSTER, clusterUp, hostsInLog, killHost, lockCluster, restoreHost } from '../cluster/cluster.js';
import { untilWorking } from './helpers/big-fixture.js';
import { expectSameRecords } from './helpers/datasets.js';

// The 3-host test cluster (test/cluster/slurm-cluster.sh; .ci/run starts it). Every host has 2
// CPUs, so a 6-task array with one CPU per task runs two tasks per host at once. The hosts share
// this machine's CPUs: the tests prove placement and recovery, never speed.
const SLURM = ['--cpus-per-task', '1', '--mem', '1G', '--time', '00:15:00'];
const TASKS = '6';
const IMAGES = 900; // 150 per task: seconds per task even on a quiet machine, long enough to lose its host mid-way

let tmp: { dir: string; cleanup: () => Promise<void> };
let release: (() => void) | undefined;
let common: string[];
let reference: string;

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

/** `retina slurm preprocess ... --submit --wait --json` in the background, on the cluster. */
function submitInBackground(out: string): { arrayJobId: () => Promise<string>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'slurm', 'preprocess', '--tasks', TASKS, ...common, '--out', out, ...SLURM,
    '--submit', '--wait', '--wait-timeout', '420', '--json', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'], env: CLUSTER_ENV });
  let stdout = '', stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const arrayJobId = async (): Promise<string> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const id = /submitted array job (\d+)/.exec(stderr)?.[1];
      if (id) return id;
      expect(Date.now(), `no job id within 120 s:\n${stderr}`).toBeLessThan(deadline);
      await sleep(100);
    }
  };
  return { arrayJobId, done };
}

/** The host a running job or array task is on, from squeue. */
async function hostOf(id: string): Promise<string> {
  const r = await runSlurmTool('squeue', ['-h', '-j', id, '-o', '%N'], { env: CLUSTER_ENV });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe.skipIf(!HAS_CLUSTER).sequential(`3-host Slurm cluster: retina slurm preprocess${CLUSTER_SKIP}`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    release = await lockCluster();
    await clusterUp();
    tmp = await tempDir('retina-cluster-prep-');
    const fx = join(tmp.dir, 'fx');
    ok(await runCli(['fixtures', '--out', fx, '--count', String(IMAGES), '--seed', '12', '--size', '320x240']));
    common = ['--format', 'raw', '--normalize', 'ben-graham', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv')];
    reference = join(tmp.dir, 'single');
    ok(await runCli(['preprocess', ...common, '--out', reference, '--threads', '2']));
    ok(await runCli(['index', reference]));
  }, 300_000);
  afterAll(async () => {
    // A failed test may have left a host down: boot it again for whatever runs next.
    for (const h of CLUSTER_HOSTS) await restoreHost(h).catch(() => undefined);
    await tmp?.cleanup();
    release?.();
  });

  it('a 6-task array runs on all 3 hosts and writes a dataset equal, record for record, to a single-process run', async () => {
    const out = join(tmp.dir, 'spread');
    const r = ok(await runCli(['slurm', 'preprocess', '--tasks', TASKS, ...common, '--out', out, ...SLURM, '--submit', '--wait', '--wait-timeout', '420', '--json'],
      { env: CLUSTER_ENV, timeoutMs: 480_000 }));
    const body = parseJson<{ arrayJobId: string; outcomes: { state: string }[] }>(r);
    expect(body.outcomes.map((o) => o.state)).toEqual(Array(7).fill('COMPLETED')); // 6 tasks + index
    const hosts = new Set<string>();
    for (let t = 0; t < 6; t++) {
      const log = readFileSync(join(out, 'logs', `${body.arrayJobId}_${t}.out`), 'utf8');
      expect(log).toContain(`shard ${t}/6`);
      expect(log).toContain('retina: exit status 0');
      for (const h of hostsInLog(log)) hosts.add(h);
    }
    expect([...hosts].sort()).toEqual([...CLUSTER_HOSTS]);
    expect(await expectSameRecords(out, reference)).toBe(IMAGES);
  });

  it('a host lost while its task runs: the task is requeued, completes on another host, and the dataset is still equal', async () => {
    const out = join(tmp.dir, 'lost-host');
    const run = submitInBackground(out);
    const arrayJobId = await run.arrayJobId();
    const victim = `${arrayJobId}_0`;
    const victimLog = join(out, 'logs', `${victim}.out`);
    await untilWorking(victim, victimLog, '0/6');
    const host = await hostOf(victim);
    expect(CLUSTER_HOSTS).toContain(host);
    await killHost(host); // slurmd, slurmstepd and the task's own processes die at once
    try {
      const { code, stdout, stderr } = await run.done;
      expect(code, stderr).toBe(0);
      const body = JSON.parse(stdout) as { outcomes: { state: string }[] };
      expect(body.outcomes.map((o) => o.state)).toEqual(Array(7).fill('COMPLETED'));
      const log = readFileSync(victimLog, 'utf8');
      expect(log).toContain('(restart 0)');
      expect(log).toContain('(restart 1)'); // Slurm requeued it (NODE_FAIL, --requeue)
      const firstAttempt = log.slice(0, log.indexOf('(restart 1)'));
      expect(firstAttempt).not.toContain('retina: exit status'); // it died with its host, mid-way
      const [first, second] = hostsInLog(log);
      expect(first).toBe(host);
      expect(second).not.toBe(host); // its host stayed down: it ran elsewhere
      expect(log).toContain('retina: exit status 0');
      expect(await expectSameRecords(out, reference)).toBe(IMAGES);
    } finally {
      await restoreHost(host);
    }
  });

  it('preemption: scontrol requeue of a running task reruns it and gives the same dataset', async () => {
    const out = join(tmp.dir, 'preempted');
    const run = submitInBackground(out);
    const arrayJobId = await run.arrayJobId();
    const victim = `${arrayJobId}_4`;
    const victimLog = join(out, 'logs', `${victim}.out`);
    await untilWorking(victim, victimLog, '4/6');
    ok(await runSlurmTool('scontrol', ['requeue', victim], { env: CLUSTER_ENV }) as CliResult);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/shard 4\/6 \[\d+_4\]: PENDING/); // --wait saw the requeue and kept waiting
    const body = JSON.parse(stdout) as { outcomes: { state: string }[] };
    expect(body.outcomes.map((o) => o.state)).toEqual(Array(7).fill('COMPLETED'));
    const log = readFileSync(victimLog, 'utf8');
    expect(log).toMatch(/retina: SIGTERM/); // the batch script passed Slurm's TERM on to retina
    expect(log).toContain('(restart 1)');
    expect(log).toContain('retina: exit status 0');
    expect(await expectSameRecords(out, reference)).toBe(IMAGES);
  });
});
