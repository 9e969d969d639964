import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { RetinaError } from '../src/core/errors.js';
import { silentLogger } from '../src/core/log.js';
import { checkFitsCluster } from './cluster-size.js';
import { renderTorchTrainScript, torchTrainLogPath, type TorchTrainJobSpec } from './render-torch-train.js';
import { sbatch } from './slurm-cli.js';
import { waitForJobs } from './wait.js';
import type { SlurmJobOptions } from './job-options.js';
import type { SlurmTrainResult } from './train-job.js';
import { fitDefaults } from './cluster-info.js';

/** `retina slurm train --engine torch --json`: the job's, plus the training's summary once waited for. */
export interface SlurmTorchTrainResult extends SlurmTrainResult {
  engine: 'torch';
  nodes: number;
  worldSize: number;
  /** The run folder's summary.json (retina train --engine torch's result), after --wait. */
  train: unknown;
}

export async function slurmTorchTrain(opts: SlurmJobOptions<TorchTrainJobSpec>): Promise<SlurmTorchTrainResult> {
  const logger = opts.logger ?? silentLogger;
  const spec = { ...opts.spec, resources: await fitDefaults(opts.spec.resources, { env: opts.env, logger }) };
  const script = renderTorchTrainScript(spec);
  const result: SlurmTorchTrainResult = {
    jobId: null, script, scriptFile: null, log: null, runDir: spec.train.out ?? null, outcome: null,
    engine: 'torch', nodes: spec.nodes, worldSize: spec.nodes * spec.tasksPerNode, train: null,
  };
  if (opts.scriptFile !== undefined) {
    result.scriptFile = resolve(opts.scriptFile);
    await mkdir(dirname(result.scriptFile), { recursive: true });
    const tmp = `${result.scriptFile}.tmp-${process.pid}`;
    await writeFile(tmp, script, { mode: 0o755 });
    await rename(tmp, result.scriptFile);
    logger.info(`wrote ${result.scriptFile}`);
  }
  if (!opts.submit) {
    if (opts.wait) throw new RetinaError('BAD_ARGUMENT', '--wait needs --submit', { hint: 'Add --submit, or drop --wait to only render the script.' });
    return result;
  }
  await checkFitsCluster({ nodes: spec.nodes, tasksPerNode: spec.tasksPerNode, cpusPerTask: spec.resources.cpusPerTask, partition: spec.resources.partition }, opts.env);
  await mkdir(spec.logDir, { recursive: true });
  const jobId = await sbatch(script, [], opts.env, 'retina train --engine torch');
  result.jobId = jobId;
  result.log = torchTrainLogPath(spec, jobId);
  logger.info(`submitted torch train job ${jobId} (${result.worldSize} ranks); log: ${result.log}`);
  if (!opts.wait) return result;
  const [outcome] = await waitForJobs([{ id: jobId, label: 'train', log: result.log }], { ...opts.waitOptions, logger, ...(opts.env ? { env: opts.env } : {}) });
  result.outcome = outcome ?? null;
  if (outcome && outcome.kind === 'failed') {
    throw new RetinaError('INCOMPLETE', `Slurm torch train job ${jobId} ${outcome.state}${outcome.detail ? ` (${outcome.detail})` : ''}; log: ${outcome.log}`, {
      hint: 'Read the log; once fixed, submit again with the same --out: training resumes from the last epoch checkpoint.',
    });
  }
  if (spec.train.out !== undefined) {
    result.train = await readFile(join(spec.train.out, 'summary.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => null);
  }
  return result;
}
