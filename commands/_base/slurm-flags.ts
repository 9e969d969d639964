import { Flags } from '@oclif/core';
import { DEFAULT_RESOURCES, validateResources, type SlurmResources } from '../../slurm/resources.js';

/** The sbatch resource flags shared by `retina slurm preprocess` and `retina slurm train`. */
export const slurmResourceFlags = {
  'cpus-per-task': Flags.integer({ min: 1, helpGroup: 'SLURM', summary: `CPUs per task (#SBATCH --cpus-per-task); retina uses all of them. [default: ${DEFAULT_RESOURCES.cpusPerTask}, or the partition's CPUs per node when fewer (sinfo)]` }),
  mem: Flags.string({ helpGroup: 'SLURM', summary: `Memory per task, e.g. 500M or 8G (#SBATCH --mem). [default: ${DEFAULT_RESOURCES.mem}, or the partition's memory per node when less (sinfo)]` }),
  time: Flags.string({ default: DEFAULT_RESOURCES.time, helpGroup: 'SLURM', summary: 'Time limit, e.g. 30, 01:00:00, 1-00:00:00 (#SBATCH --time).' }),
  partition: Flags.string({ helpGroup: 'SLURM', summary: 'Partition (#SBATCH --partition).' }),
  account: Flags.string({ helpGroup: 'SLURM', summary: 'Account to charge (#SBATCH --account).' }),
  'job-name': Flags.string({ helpGroup: 'SLURM', summary: 'Job name (#SBATCH --job-name).' }),
  'sbatch-option': Flags.string({ multiple: true, helpGroup: 'SLURM', summary: 'Extra #SBATCH option, verbatim, e.g. --sbatch-option=--qos=high (repeatable).' }),
  script: Flags.file({ helpGroup: 'SLURM', summary: 'Write the script(s) to this file instead of printing them.' }),
  submit: Flags.boolean({ default: false, helpGroup: 'SLURM', summary: 'Submit with sbatch and print the job ids.' }),
  wait: Flags.boolean({ default: false, dependsOn: ['submit'], helpGroup: 'SLURM', summary: 'Wait for the jobs, showing per-task progress; fail if any task fails.' }),
  'wait-timeout': Flags.integer({ min: 1, dependsOn: ['wait'], helpGroup: 'SLURM', summary: 'Stop waiting after this many seconds (the jobs keep running).' }),
};

/** Resources from the parsed shared flags, validated. */
export function resourcesFromFlags(f: {
  'cpus-per-task'?: number | undefined; mem?: string | undefined; time: string; partition?: string | undefined; account?: string | undefined;
  'sbatch-option'?: string[] | undefined;
}, jobName: string, gpus?: number): SlurmResources {
  // Defaults not given on the command line are fitted to the cluster before rendering (fitDefaults).
  const defaulted = [...(f['cpus-per-task'] === undefined ? ['cpusPerTask' as const] : []), ...(f.mem === undefined ? ['mem' as const] : [])];
  return validateResources({
    jobName, cpusPerTask: f['cpus-per-task'] ?? DEFAULT_RESOURCES.cpusPerTask, mem: f.mem ?? DEFAULT_RESOURCES.mem, time: f.time, partition: f.partition, account: f.account,
    gpus, extra: f['sbatch-option'], ...(defaulted.length ? { defaulted } : {}),
  });
}
