import { join } from 'node:path';
import { directive, shellJoin, shellQuote } from './shell-quote.js';
import { resourceDirectives, runForwardingTerm } from './script-parts.js';
import { torchTrainArgv, type TorchTrainFlags } from '../src/train/torch-argv.js';
import type { SlurmResources } from './resources.js';

/** `retina slurm train --engine torch`: one PyTorch rank per Slurm task. */
export interface TorchTrainJobSpec {
  train: TorchTrainFlags;
  resources: SlurmResources;
  nodes: number;
  tasksPerNode: number;
  /** The interpreter on the compute nodes, and the folder holding `retina_data` (PYTHONPATH). */
  python: string;
  pythonPath: string;
  /** Folder of the job's log (`train-%j.out`). */
  logDir: string;
}

export function torchTrainLogPath(spec: TorchTrainJobSpec, jobId: string): string {
  return join(spec.logDir, `train-${jobId}.out`);
}

/**
 * The batch script: chooses the rendezvous once on the first node (where rank 0 listens), then
 * `srun` starts one `python -m retina_data.train` per task; each reads its rank from Slurm
 * (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID) and joins one torch.distributed job. Never N
 * independent trainings: without srun there would be a single process, and that process would
 * see no step and train alone as rank 0 of 1.
 */
export function renderTorchTrainScript(spec: TorchTrainJobSpec): string {
  const r = spec.resources;
  const world = spec.nodes * spec.tasksPerNode;
  const gpus = r.gpus ?? 0;
  const lines = [
    '#!/bin/bash',
    `# retina train --engine torch under Slurm: ${spec.nodes} node(s) x ${spec.tasksPerNode} task(s) = ${world} PyTorch rank(s), torch.distributed ${gpus > 0 ? 'nccl' : 'gloo'}`,
    '# Rendered by `retina slurm train --engine torch`; edit freely.',
    `# Submit with:  mkdir -p ${shellQuote(spec.logDir)} && sbatch THIS_FILE`,
    directive('nodes', spec.nodes),
    directive('ntasks-per-node', spec.tasksPerNode),
    ...resourceDirectives(r, { dir: spec.logDir, pattern: 'train-%j.out' },
      'Requeue (node failure, preemption) resumes from the run folder\'s last epoch checkpoint.'),
    '',
    'set -uo pipefail',
    `PYTHON=${shellQuote(spec.python)}`,
    `export PYTHONPATH=${shellQuote(spec.pythonPath)}\${PYTHONPATH:+:$PYTHONPATH}`,
    'echo "retina: torch train job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: $SLURM_NTASKS task(s), ${SLURM_CPUS_PER_TASK:-?} CPUs each, at $(date -Is) (restart ${SLURM_RESTART_COUNT:-0})"',
    '# The rendezvous (MASTER_ADDR: the first node, by its NodeAddr when its name does not resolve;',
    '# MASTER_PORT: derived from the job id, free on this node), chosen once and inherited by every rank.',
    'rendezvous=$("$PYTHON" -m retina_data.dist --exports) || { echo "retina: cannot choose the rendezvous; exit status 9" >&2; exit 9; }',
    'eval "$rendezvous"',
    'echo "retina: rendezvous $MASTER_ADDR:$MASTER_PORT"',
    '# --kill-on-bad-exit: one failed rank ends them all, instead of leaving the others waiting for it.',
    // Slurm 22.05's srun no longer takes --cpus-per-task from the allocation: pass it on.
    ...runForwardingTerm(`srun --kill-on-bad-exit=1 --cpus-per-task="$SLURM_CPUS_PER_TASK" "$PYTHON" -m retina_data.train ${shellJoin(torchTrainArgv(spec.train))}`, 'training'),
  ];
  return lines.join('\n') + '\n';
}
