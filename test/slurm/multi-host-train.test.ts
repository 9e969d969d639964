import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { HAS_TORCH, SLURM, TORCH_SKIP, maxRelativeDifference, metrics, ok } from './helpers/torch-runs.js';
import { CLUSTER_ENV, CLUSTER_HOSTS, CLUSTER_SKIP, HAS_CLUSTER, clusterUp, killHost, lockCluster, restoreHost } from '../cluster/cluster.js';

// torch.distributed (gloo) across two hosts of the 3-host test cluster: one rank per host.
const SKIP = CLUSTER_SKIP || TORCH_SKIP;

let tmp: { dir: string; cleanup: () => Promise<void> };
let release: (() => void) | undefined;
let data: string;

/** Slurm's record of a job: `scontrol -o show job` fields (NodeList, NumNodes, NumTasks, BatchHost, ...). */
async function jobRecord(id: string): Promise<Record<string, string>> {
  const r = await runSlurmTool('scontrol', ['-o', 'show', 'job', id], { env: CLUSTER_ENV });
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries([...r.stdout.trim().matchAll(/([\w:]+)=(\S*)/g)].map((m) => [m[1] as string, m[2] as string]));
}

/** Hosts of a Slurm host list (`h[1-2]`), expanded by scontrol. */
async function hostsOf(list: string): Promise<string[]> {
  const r = await runSlurmTool('scontrol', ['show', 'hostnames', list], { env: CLUSTER_ENV });
  return r.stdout.trim().split('\n').filter(Boolean);
}

describe.skipIf(!HAS_CLUSTER || !HAS_TORCH).sequential(`3-host Slurm cluster: retina slurm train --engine torch over 2 hosts${SKIP}`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    release = await lockCluster();
    await clusterUp();
    tmp = await tempDir('retina-cluster-train-');
    const fx = join(tmp.dir, 'fx');
    data = join(tmp.dir, 'data');
    ok(await runCli(['fixtures', '--out', fx, '--count', '60', '--seed', '21', '--size', '96x72', '--distribution', 'balanced']));
    ok(await runCli(['preprocess', '--images', join(fx, 'train'), '--labels', join(fx, 'trainLabels.csv'), '--out', data, '--format', 'raw',
      '--size', '32', '--val-fraction', '0.2', '--threads', '1']));
    ok(await runCli(['index', data]));
  }, 300_000);
  afterAll(async () => {
    for (const h of CLUSTER_HOSTS) await restoreHost(h).catch(() => undefined);
    await tmp?.cleanup();
    release?.();
  });

  it('--nodes 2 --ntasks-per-node 1: rank 0 and rank 1 on two hosts (gloo), the weights and losses of 1 rank with the same global batch', async () => {
    const common = ['--source', 'raw', '--data', data, '--model', 'small-cnn', '--fine-tune', '--epochs', '2', '--batch-size', '16', '--lr', '3e-3', '--seed', '5'];
    const one = join(tmp.dir, 'one');
    ok(await runCli(['train', '--engine', 'torch', ...common, '--micro-batch', '8', '--threads', '1', '--out', one, '--json']));
    const two = join(tmp.dir, 'two');
    const r = ok(await runCli(['slurm', 'train', '--engine', 'torch', ...common, '--nodes', '2', '--ntasks-per-node', '1', '--out', two, ...SLURM,
      '--submit', '--wait', '--wait-timeout', '480', '--json'], { env: CLUSTER_ENV, timeoutMs: 540_000 }));
    const body = parseJson<{ jobId: string; log: string; nodes: number; worldSize: number; outcome: { state: string }; train: { worldSize: number; distBackend: string } }>(r);
    expect(body.outcome.state).toBe('COMPLETED');
    expect(body).toMatchObject({ nodes: 2, worldSize: 2 });
    expect(body.train).toMatchObject({ worldSize: 2, distBackend: 'gloo' });
    // Slurm's record: 2 nodes, 2 tasks, one per node, so rank 0 ran on the first host and rank 1 on the second.
    const job = await jobRecord(body.jobId);
    expect(job['NumNodes']).toBe('2');
    expect(job['NumTasks']).toBe('2');
    expect(job['NtasksPerN:B:S:C']?.split(':')[0]).toBe('1');
    const hosts = await hostsOf(job['NodeList'] as string);
    expect(hosts).toHaveLength(2);
    expect(new Set(hosts).size).toBe(2);
    const log = readFileSync(body.log, 'utf8');
    expect(log).toContain(`on ${job['NodeList']}: 2 task(s)`);
    expect(log).toContain(`retina: rendezvous ${hosts[0]}:`); // MASTER_ADDR: rank 0's host, by a name every host resolves
    expect(log).toContain('torch.distributed: gloo, 2 ranks');
    // Each rank's own line: where it ran.
    const rankHost = (r: number) => new RegExp(`\\[rank ${r}\\] rank ${r}/2 on (\\S+) \\(Slurm node (\\S+)\\)`).exec(log)?.slice(1, 3);
    expect(rankHost(0)).toEqual([hosts[0], hosts[0]]);
    expect(rankHost(1)).toEqual([hosts[1], hosts[1]]);
    expect(log).toContain('retina: exit status 0');
    expect(maxRelativeDifference(one, two)).toBeLessThanOrEqual(1e-5);
    const [m1, m2] = [metrics(one), metrics(two)];
    expect(m2.map((m) => m.worldSize)).toEqual([2, 2]);
    m1.forEach((m, i) => {
      expect(Math.abs(m.trainLoss - m2[i]!.trainLoss) / m.trainLoss).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(m.valLoss - m2[i]!.valLoss) / m.valLoss).toBeLessThanOrEqual(1e-5);
    });
  });

  it('a host lost mid-training: Slurm requeues the job, it resumes on two live hosts from the last epoch checkpoint and ends where an unbroken run does', async () => {
    const common = ['--source', 'raw', '--data', data, '--model', 'small-cnn', '--fine-tune', '--epochs', '12', '--batch-size', '4', '--seed', '9'];
    const whole = join(tmp.dir, 'whole');
    ok(await runCli(['train', '--engine', 'torch', ...common, '--micro-batch', '2', '--threads', '1', '--out', whole, '--log-level', 'warn']));
    const run = join(tmp.dir, 'lost');
    const submitted = parseJson<{ jobId: string; log: string }>(ok(await runCli(['slurm', 'train', '--engine', 'torch', ...common, '--nodes', '2',
      '--ntasks-per-node', '1', '--out', run, ...SLURM, '--submit', '--json'], { env: CLUSTER_ENV })));
    const deadline = Date.now() + 240_000;
    while (metrics(run).length < 1) {
      expect(Date.now(), 'no epoch finished in time').toBeLessThan(deadline);
      await sleep(100);
    }
    const before = await jobRecord(submitted.jobId);
    const [, second] = await hostsOf(before['NodeList'] as string);
    await killHost(second as string); // rank 1's host: slurmd and the rank die at once
    const epochsBefore = metrics(run).length;
    let lost = second as string;
    try {
      expect(epochsBefore).toBeLessThan(12);
      for (;;) {
        const q = await runSlurmTool('squeue', ['-h', '-t', 'all', '-j', submitted.jobId, '-o', '%T'], { env: CLUSTER_ENV });
        const state = q.stdout.trim();
        if (state === 'COMPLETED') break;
        expect(['RUNNING', 'PENDING', 'REQUEUED', 'COMPLETING', 'CONFIGURING', 'REQUEUE_HOLD'], `job ${submitted.jobId}: ${state}\n${existsSync(submitted.log) ? readFileSync(submitted.log, 'utf8') : ''}`).toContain(state);
        expect(Date.now()).toBeLessThan(deadline + 300_000);
        await sleep(1000);
      }
      const after = await jobRecord(submitted.jobId);
      expect(Number(after['Restarts'])).toBeGreaterThanOrEqual(1);
      const hostsAfter = await hostsOf(after['NodeList'] as string);
      expect(hostsAfter).toHaveLength(2);
      expect(hostsAfter).not.toContain(lost); // it stayed down: the job ran on the two others
      const log = readFileSync(submitted.log, 'utf8');
      expect(log).toContain('(restart 1)');
      expect(log).toMatch(/train: resuming .* after epoch \d+/);
      expect(log.slice(log.indexOf('(restart 1)'))).toContain('retina: exit status 0');
      expect(metrics(run).map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(maxRelativeDifference(whole, run)).toBeLessThanOrEqual(1e-5);
    } finally {
      await restoreHost(lost);
      lost = '';
    }
  });
});
