import { describe, expect, it } from 'vitest';
import { parsePartitionSize } from '../../slurm/cluster-size.js';
import { renderTorchTrainScript, type TorchTrainJobSpec } from '../../slurm/render-torch-train.js';
import { torchTrainArgv } from '../../src/train/torch-argv.js';
import { runCli } from '../helpers/cli.js';

const spec: TorchTrainJobSpec = {
  train: { source: 'lmdb', data: '/data/retina lmdb', model: 'inception-v3', fineTune: true, epochs: 3, batchSize: 64, out: '/runs/ddp' },
  resources: { jobName: 'retina-train-torch', cpusPerTask: 8, mem: '64G', time: '04:00:00', gpus: 4 },
  nodes: 2, tasksPerNode: 4, python: '/usr/bin/python3', pythonPath: '/opt/retina/python', logDir: '/data/logs',
};

describe('retina slurm train --engine torch: the batch script', () => {
  const script = renderTorchTrainScript(spec);

  it('asks for nodes x tasks and GPUs per node, and starts one rank per task with srun (never N independent trainings)', () => {
    expect(script).toContain('#SBATCH --nodes=2\n');
    expect(script).toContain('#SBATCH --ntasks-per-node=4\n');
    expect(script).toContain('#SBATCH --gres=gpu:4\n');
    expect(script).toContain('#SBATCH --requeue');
    const launch = script.split('\n').filter((l) => l.includes('-m retina_data.train'));
    expect(launch).toHaveLength(1);
    expect(launch[0]).toMatch(/^srun --kill-on-bad-exit=1 --cpus-per-task="\$SLURM_CPUS_PER_TASK" "\$PYTHON" -m retina_data.train /);
    expect(launch[0]).toContain("--data '/data/retina lmdb'");
    expect(launch[0]).toContain('--fine-tune --epochs 3 --batch-size 64');
    expect(script).toContain("export PYTHONPATH=/opt/retina/python${PYTHONPATH:+:$PYTHONPATH}");
  });

  it('chooses the rendezvous once, before srun, so every rank inherits the same MASTER_ADDR and MASTER_PORT', () => {
    const at = (s: string) => script.indexOf(s);
    expect(at('"$PYTHON" -m retina_data.dist --exports')).toBeGreaterThan(0);
    expect(at('eval "$rendezvous"')).toBeGreaterThan(at('-m retina_data.dist'));
    expect(at('srun ')).toBeGreaterThan(at('eval "$rendezvous"'));
    expect(script).toContain('trap '); // SIGTERM reaches srun, which passes it to every rank
  });

  it('passes only the flags given, in one order', () => {
    expect(torchTrainArgv({ source: 'raw', fineTune: false, epochs: 2, lr: 3e-3 })).toEqual(['--source', 'raw', '--epochs', '2', '--lr', '0.003']);
  });
});

describe('sinfo: the partition a job would go to', () => {
  const sinfo = 'debug*|3|2|\ndebug*|1|4|\ngpu|8|64+|\n';
  it('sums the node states of the default partition and keeps the smallest node', () => {
    expect(parsePartitionSize(sinfo)).toEqual({ partition: 'debug', nodes: 4, cpusPerNode: 2 });
    expect(parsePartitionSize(sinfo, 'gpu')).toEqual({ partition: 'gpu', nodes: 8, cpusPerNode: 64 });
    expect(parsePartitionSize(sinfo, 'nope')).toBeUndefined();
  });
});

describe('retina slurm train --engine torch: flags', () => {
  it('renders the script without --submit (no Slurm needed)', async () => {
    const r = await runCli(['slurm', 'train', '--engine', 'torch', '--source', 'raw', '--data', '/tmp/x', '--nodes', '2', '--ntasks-per-node', '2', '--gpus-per-node', '2', '--out', '/tmp/run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('#SBATCH --nodes=2');
    expect(r.stdout).toContain('#SBATCH --gres=gpu:2');
    expect(r.stdout).toContain('-m retina_data.train --source raw --data /tmp/x --out /tmp/run');
  });

  it('refuses tfjs-only flags and multi-node tfjs jobs with exit 2', async () => {
    const a = await runCli(['slurm', 'train', '--engine', 'torch', '--source', 'raw', '--backend', 'wasm']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--backend applies to the tfjs engine only');
    const b = await runCli(['slurm', 'train', '--source', 'raw', '--nodes', '2']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--nodes needs --engine torch');
  });
});
