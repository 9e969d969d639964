import type { Logger } from '../src/core/log.js';
import type { RetinaInvocation } from './retina-invocation.js';
import type { WaitOptions } from './wait.js';

/** What `retina slurm preprocess` and `retina slurm train` take besides their job spec. */
export interface SlurmJobOptions<Spec> {
  spec: Spec;
  /** Write the script here (preprocess writes its index script beside it, `NAME.index.sbatch`). */
  scriptFile?: string | undefined;
  submit?: boolean;
  wait?: boolean;
  retina?: RetinaInvocation;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  waitOptions?: Omit<WaitOptions, 'logger' | 'env'>;
}
