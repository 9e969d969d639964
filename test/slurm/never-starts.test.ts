import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitDefaults, parseSinfo } from '../../slurm/cluster-info.js';
import { isHopeless } from '../../slurm/pending-reasons.js';
import { runSlurmTool } from '../../slurm/slurm-cli.js';
import { parseJson, runCli, tempDir } from '../helpers/cli.js';
import { HAS_SBATCH, SKIP_REASON } from './helpers/slurm.js';

describe('pending reasons that waiting cannot clear', () => {
  it('knows which reasons clear by themselves', () => {
    for (const r of ['PartitionConfig', 'PartitionNodeLimit', 'ReqNodeNotAvail, UnavailableNodes:n1', 'InvalidQOS', 'BadConstraints']) expect(isHopeless(r), r).toBe(true);
    for (const r of ['Resources', 'Priority', 'Dependency', 'BeginTime', 'None', '']) expect(isHopeless(r), r).toBe(false);
  });

  it('reads CPUs, memory and time limit per partition from sinfo', () => {
    expect(parseSinfo('debug*|2|24105|infinite\ngpu|64+|512000|2-00:00:00\ngpu|128|1024000|2-00:00:00\n')).toEqual([
      { partition: 'debug', isDefault: true, cpus: 2, memoryMb: 24105, timeLimit: 'infinite' },
      { partition: 'gpu', isDefault: false, cpus: 128, memoryMb: 1024000, timeLimit: '2-00:00:00' },
    ]);
  });
});

describe('defaults that fit the cluster', () => {
  const limits = { partition: 'debug', isDefault: true, cpus: 2, memoryMb: 4000, timeLimit: 'infinite' };
  const base = { jobName: 'j', cpusPerTask: 4, mem: '8G', time: '01:00:00' };
  it('lowers the defaults the nodes cannot give, never what the user gave', async () => {
    expect(await fitDefaults({ ...base, defaulted: ['cpusPerTask', 'mem'] }, { limits })).toMatchObject({ cpusPerTask: 2, mem: '4000M' });
    expect(await fitDefaults({ ...base, defaulted: ['mem'] }, { limits })).toMatchObject({ cpusPerTask: 4, mem: '4000M' });
    expect(await fitDefaults(base, { limits })).toMatchObject({ cpusPerTask: 4, mem: '8G' });
    // Nodes bigger than the defaults keep them; RealMemory 1 (unset) says nothing.
    expect(await fitDefaults({ ...base, defaulted: ['cpusPerTask', 'mem'] }, { limits: { ...limits, cpus: 64, memoryMb: 1 } })).toMatchObject({ cpusPerTask: 4, mem: '8G' });
  });
});

describe(`real Slurm: a job that can never start${SKIP_REASON}`, { timeout: 240_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => { tmp = await tempDir('retina-never-'); });
  afterAll(async () => { await tmp?.cleanup(); });

  it.skipIf(!HAS_SBATCH)('--cpus-per-task beyond the node stops --wait with exit 9, the reason and the flag to change', async () => {
    const sinfo = await runSlurmTool('sinfo', ['-h', '-o', '%P|%c|%m|%l']);
    const node = parseSinfo(sinfo.stdout).find((p) => p.isDefault)!;
    const tooMany = node.cpus + 2;
    const r = await runCli(['slurm', 'train', '--source', 'raw', '--data', join(tmp.dir, 'data'), '--model', 'small-cnn', '--out', join(tmp.dir, 'run'),
      '--cpus-per-task', String(tooMany), '--mem', '100M', '--time', '00:05:00', '--submit', '--wait', '--wait-timeout', '120', '--json'], { timeoutMs: 180_000 });
    const err = parseJson<{ error: { code: string; message: string; hint: string } }>(r).error;
    const jobId = /scancel (\d+)/.exec(err.hint ?? '')?.[1];
    if (jobId) await runSlurmTool('scancel', [jobId]);
    expect(r.code, r.stderr).toBe(9);
    expect(err.code).toBe('EXTERNAL');
    expect(err.message).toMatch(/^train \[\d+\] can never start: it is PENDING \(PartitionConfig\)/);
    expect(err.hint).toContain(`--cpus-per-task ${tooMany}: the nodes of partition ${node.partition} have ${node.cpus} CPUs (pass --cpus-per-task ${node.cpus} or less)`);
    expect(jobId).toBeDefined();
  });

  it.skipIf(!HAS_SBATCH)('without --cpus-per-task the rendered script asks for what the node has (sinfo), not the default 4', async () => {
    const sinfo = await runSlurmTool('sinfo', ['-h', '-o', '%P|%c|%m|%l']);
    const node = parseSinfo(sinfo.stdout).find((p) => p.isDefault)!;
    const r = await runCli(['slurm', 'train', '--source', 'raw', '--data', join(tmp.dir, 'data'), '--model', 'small-cnn', '--out', join(tmp.dir, 'run'), '--time', '00:05:00']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`#SBATCH --cpus-per-task=${Math.min(4, node.cpus)}`);
    const p = await runCli(['slurm', 'preprocess', '--tasks', '2', '--format', 'raw', '--out', join(tmp.dir, 'ds'), '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).script).toContain(`#SBATCH --cpus-per-task=${Math.min(4, node.cpus)}`);
  });
});
