// Test stand-in for bin/run.js inside rendered scripts: records the argv it received, so tests can
// check what the batch script's shell (and Slurm) really pass on. It exercises the scripts and
// the submission machinery, not retina. Env:
//   RECORD_ARGV       file to write; "{id}" becomes SLURM_ARRAY_TASK_ID or SLURM_JOB_ID
//   RECORD_WAIT_TERM  wait up to 30 s for SIGTERM, record it in FILE.term, exit 7
//   RECORD_FAIL_SHARD exit RECORD_FAIL_EXIT (default 3) when --shard is this INDEX/COUNT, printing
//                     an error the way retina does (`Error [CODE]: message`, `Hint: ...`)
import { writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const out = process.env.RECORD_ARGV.replace('{id}', process.env.SLURM_ARRAY_TASK_ID ?? process.env.SLURM_JOB_ID ?? 'none');
writeFileSync(out, JSON.stringify(argv));
const shard = argv[argv.indexOf('--shard') + 1];
if (process.env.RECORD_FAIL_SHARD && shard === process.env.RECORD_FAIL_SHARD) {
  const code = Number(process.env.RECORD_FAIL_EXIT ?? 3);
  console.error(`Error [${code === 3 ? 'BAD_INPUT' : 'EXTERNAL'}]: recorder: failing shard ${shard} on purpose`);
  console.error('Hint: this is the recorder\'s own hint');
  process.exit(code);
}
if (process.env.RECORD_WAIT_TERM) {
  process.on('SIGTERM', () => {
    writeFileSync(out + '.term', 'TERM');
    process.exit(7);
  });
  writeFileSync(out + '.ready', String(process.pid));
  setTimeout(() => process.exit(0), 30_000);
}
