import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { parseJson, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { CLUSTER_ENV, CLUSTER_SKIP, HAS_CLUSTER, clusterCtl, clusterUp, killHost, lockCluster, restoreHost } from '../cluster/cluster.js';

// Bad requests against the 3-host cluster: each ends with a clear error from the submit or the
// wait step, naming the cause; none waits until its timeout.
const SLURM = ['--cpus-per-task', '1', '--mem', '500M', '--time', '00:05:00'];

let tmp: { dir: string; cleanup: () => Promise<void> };
let release: (() => void) | undefined;
let images: string, labels: string;

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

interface JsonError { error: { code: string; message: string; hint?: string } }

describe.skipIf(!HAS_CLUSTER).sequential(`3-host Slurm cluster: requests it cannot meet${CLUSTER_SKIP}`, { timeout: 300_000 }, () => {
  beforeAll(async () => {
    release = await lockCluster();
    await clusterUp();
    tmp = await tempDir('retina-cluster-err-');
    ok(await runCli(['fixtures', '--out', join(tmp.dir, 'fx'), '--count', '6', '--seed', '3', '--size', '64x48']));
    images = join(tmp.dir, 'fx', 'train');
    labels = join(tmp.dir, 'fx', 'trainLabels.csv');
  }, 300_000);
  afterAll(async () => {
    // A failed assertion may have left a never-starting job queued: this file holds the cluster, so drop every pending job.
    await runSlurmTool('scancel', ['--state', 'PENDING'], { env: CLUSTER_ENV }).catch(() => undefined);
    await restoreHost('h3').catch(() => undefined);
    await tmp?.cleanup();
    release?.();
  });

  const prep = (out: string, ...more: string[]) => ['slurm', 'preprocess', '--tasks', '1', '--format', 'raw', '--size', '16', '--images', images,
    '--labels', labels, '--out', join(tmp.dir, out), ...SLURM, ...more, '--submit', '--json'];

  it('a partition that does not exist: sbatch refuses, retina names it and the partitions there are (exit 2)', async () => {
    const r = await runCli(prep('nopart', '--partition', 'gpu-a100'), { env: CLUSTER_ENV });
    expect(r.code).toBe(2);
    const { error } = parseJson<JsonError>(r);
    expect(error.code).toBe('BAD_ARGUMENT');
    expect(error.message).toContain('no partition gpu-a100');
    expect(error.message).toContain('hosts*');
    expect(error.message).toContain('Nothing was submitted');
  });

  it('more nodes than the partition has: slurm train --nodes 4 is refused before sbatch (exit 2); a script given --nodes=4 stops --wait on PartitionNodeLimit (exit 9)', async () => {
    const r = await runCli(['slurm', 'train', '--engine', 'torch', '--source', 'raw', '--data', join(tmp.dir, 'no-data'), '--model', 'small-cnn',
      '--nodes', '4', '--out', join(tmp.dir, 'never'), ...SLURM, '--submit', '--wait', '--json'], { env: CLUSTER_ENV, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(parseJson<JsonError>(r).error.message).toMatch(/--nodes 4: partition hosts has 3 nodes/);
    const q = await runSlurmTool('squeue', ['-h', '-o', '%j'], { env: CLUSTER_ENV });
    expect(q.stdout).not.toContain('retina-train'); // nothing queued
    // sbatch itself accepts such a job and Slurm would keep it PENDING for ever: --wait stops on the reason.
    const t0 = Date.now();
    const w = await runCli(prep('toomany', '--sbatch-option=--nodes=4', '--wait', '--wait-timeout', '240'), { env: CLUSTER_ENV, timeoutMs: 280_000 });
    expect(w.code, w.stderr).toBe(9);
    expect(Date.now() - t0).toBeLessThan(120_000);
    const { error } = parseJson<JsonError>(w);
    expect(error.message).toMatch(/can never start: it is PENDING \((PartitionNodeLimit|PartitionConfig)\)/); // Slurm 22.05 says either
    const id = /scancel (\d+)/.exec(error.hint ?? '')?.[1] as string;
    expect(id).toMatch(/^\d+$/);
    await runSlurmTool('scancel', [id], { env: CLUSTER_ENV });
  });

  it('a host that never answers: --wait stops with exit 9 naming the host as not responding, instead of waiting out its timeout', async () => {
    await killHost('h3');
    try {
      // Slurm marks it down after SlurmdTimeout (10 s in the test cluster) and a ping round.
      await clusterCtl(['wait-node', 'h3', '^down', '90'], 120_000);
      const t0 = Date.now();
      const r = await runCli(prep('needs-3', '--sbatch-option=--nodes=3', '--wait', '--wait-timeout', '240'), { env: CLUSTER_ENV, timeoutMs: 280_000 });
      expect(r.code, r.stderr).toBe(9);
      expect(Date.now() - t0).toBeLessThan(120_000); // not the 240 s wait timeout
      const { error } = parseJson<JsonError>(r);
      expect(error.code).toBe('EXTERNAL');
      expect(error.message).toMatch(/cannot start: (ReqNodeNotAvail|Nodes required for job are DOWN)/);
      expect(error.message).toMatch(/Unavailable: h3 \(down\*?: Not responding\)/);
      expect(error.hint).toMatch(/scancel \d+/);
      // The job stays queued (a user may wait for the host); the test cancels it.
      const id = /scancel (\d+)/.exec(error.hint ?? '')?.[1] as string;
      const q = await runSlurmTool('squeue', ['-h', '-j', id, '-o', '%T'], { env: CLUSTER_ENV });
      expect(q.stdout.trim()).toBe('PENDING');
      await runSlurmTool('scancel', [id], { env: CLUSTER_ENV });
    } finally {
      await restoreHost('h3');
    }
  });
});
