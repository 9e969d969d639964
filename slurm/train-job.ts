import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RetinaError } from '../src/core/errors.js';
import { writeFileAtomic } from '../src/core/atomic-write.js';
import { silentLogger } from '../src/core/log.js';
import { renderTrainScript, trainLogPath, type TrainJobSpec } from './render-train.js';
import { fitDefaults } from './cluster-info.js';
import { currentRetina } from './retina-invocation.js';
import { sbatch } from './slurm-cli.js';
import { waitForJobs, type JobOutcome } from './wait.js';
import type { SlurmJobOptions } from './job-options.js';

export type SlurmTrainOptions = SlurmJobOptions<TrainJobSpec>;

/** `retina slurm train --json`. */
export interface SlurmTrainResult {
  jobId: string | null;
  script: string;
  scriptFile: string | null;
  log: string | null;
  /** The run folder (`--out`), when given. */
  runDir: string | null;
  outcome: JobOutcome | null;
}

/** Render the training script; optionally write it, submit it and wait for it. */
export async function slurmTrain(opts: SlurmTrainOptions): Promise<SlurmTrainResult> {
  const logger = opts.logger ?? silentLogger;
  opts = { ...opts, spec: { ...opts.spec, resources: await fitDefaults(opts.spec.resources, { env: opts.env, logger }) } };
  const script = renderTrainScript(opts.spec, opts.retina ?? currentRetina());
  const result: SlurmTrainResult = { jobId: null, script, scriptFile: null, log: null, runDir: opts.spec.train.out ?? null, outcome: null };
  if (opts.scriptFile !== undefined) {
    result.scriptFile = resolve(opts.scriptFile);
    await mkdir(dirname(result.scriptFile), { recursive: true });
    await writeFileAtomic(result.scriptFile, script, { mode: 0o755 });
    logger.info(`wrote ${result.scriptFile}`);
  }
  if (!opts.submit) {
    if (opts.wait) throw new RetinaError('BAD_ARGUMENT', '--wait needs --submit', { hint: 'Add --submit, or drop --wait to only render the script.' });
    return result;
  }
  await mkdir(opts.spec.logDir, { recursive: true });
  const jobId = await sbatch(script, [], opts.env, 'retina train');
  result.jobId = jobId;
  result.log = trainLogPath(opts.spec, jobId);
  logger.info(`submitted train job ${jobId}; log: ${result.log}`);
  if (!opts.wait) return result;
  const [outcome] = await waitForJobs([{ id: jobId, label: 'train', log: result.log }], { ...opts.waitOptions, logger, resources: opts.spec.resources, ...(opts.env ? { env: opts.env } : {}) });
  result.outcome = outcome ?? null;
  if (outcome && outcome.kind === 'failed') {
    throw new RetinaError('INCOMPLETE', `Slurm train job ${jobId} ${outcome.state}${outcome.detail ? ` (${outcome.detail})` : ''}; log: ${outcome.log}`, {
      hint: 'Read the log; rerun with --submit once fixed (a partial run folder is left as the trainer left it).',
    });
  }
  return result;
}
