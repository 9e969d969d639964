// Test stand-in for bin/run.js inside rendered scripts: records the argv it received (and, with
// RECORD_WAIT_TERM, waits for SIGTERM and records that it arrived), so tests can check what the
// batch script's shell really passes on. It exercises the script, not retina.
import { writeFileSync } from 'node:fs';

const out = process.env.RECORD_ARGV;
writeFileSync(out, JSON.stringify(process.argv.slice(2)));
if (process.env.RECORD_WAIT_TERM) {
  process.on('SIGTERM', () => {
    writeFileSync(out + '.term', 'TERM');
    process.exit(7);
  });
  writeFileSync(out + '.ready', String(process.pid));
  setTimeout(() => process.exit(0), 30_000);
}
