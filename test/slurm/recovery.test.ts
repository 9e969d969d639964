import { execFileSync } from 'node:child_process';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asJobRecord, JOB_RECORD, readJobRecord, recordSubmission } from '../../slurm/job-record.js';
import { formatResubmitHint, resubmitHint } from '../../slurm/recovery.js';
import { tempDir } from '../helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => { tmp = await tempDir('retina-slurm-recovery-'); });
afterAll(async () => { await tmp.cleanup(); });

const argv = ['--tasks', '8', '--array-offset', '1', '--format', 'lmdb', '--out', '', '--job-name', "o'brien"];

describe('resubmitHint', () => {
  it('builds the exact command that resubmits only the missing shards, with their last logs', async () => {
    const dataset = join(tmp.dir, 'my data');
    const base = { dataset, tasks: 8, offset: 1, argv: argv.map((a) => (a === '' ? dataset : a)) };
    await recordSubmission(base, { arrayJobId: '10', indexJobId: '11', shards: [0, 1, 2, 3, 4, 5, 6, 7], submittedAt: 'x' });
    await recordSubmission(base, { arrayJobId: '20', indexJobId: '21', shards: [2], submittedAt: 'y' });
    expect((await readJobRecord(dataset))?.submissions.map((s) => s.arrayJobId)).toEqual(['10', '20']);

    const hint = await resubmitHint(dataset, [5, 2, 6], 8);
    expect(hint?.argv).toEqual(['slurm', 'preprocess', ...base.argv, '--only', '2,5-6', '--submit']);
    // The printed command, read by a real shell, gives back exactly that argv.
    const words = execFileSync('bash', ['-c', `retina() { printf '%s\\0' "$@"; }; ${hint?.command}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
    expect(words).toEqual(hint?.argv);
    expect(hint?.logs).toEqual([
      { shard: 2, log: join(dataset, 'logs', '20_3.out') },
      { shard: 5, log: join(dataset, 'logs', '10_6.out') },
      { shard: 6, log: join(dataset, 'logs', '10_7.out') },
    ]);
    expect(formatResubmitHint(hint!)).toContain(`  ${hint?.command}\n`);
  });

  it('starts the submission list afresh when the flags change', async () => {
    const dataset = join(tmp.dir, 'changed');
    await recordSubmission({ dataset, tasks: 4, offset: 0, argv: ['--tasks', '4'] }, { arrayJobId: '1', indexJobId: '2', shards: [0], submittedAt: 'x' });
    await recordSubmission({ dataset, tasks: 5, offset: 0, argv: ['--tasks', '5'] }, { arrayJobId: '3', indexJobId: '4', shards: [0], submittedAt: 'y' });
    expect((await readJobRecord(dataset))?.submissions.map((s) => s.arrayJobId)).toEqual(['3']);
  });

  it('gives no hint without a record, for another shard count, or with nothing missing', async () => {
    expect(await resubmitHint(join(tmp.dir, 'none'), [1], 4)).toBeUndefined();
    const dataset = join(tmp.dir, 'four');
    await recordSubmission({ dataset, tasks: 4, offset: 0, argv: ['--tasks', '4'] }, { arrayJobId: '1', indexJobId: '2', shards: [0, 1, 2, 3], submittedAt: 'x' });
    expect(await resubmitHint(dataset, [1], 5)).toBeUndefined();
    expect(await resubmitHint(dataset, [], 4)).toBeUndefined();
    expect((await resubmitHint(dataset, [1], 4))?.argv.slice(-3)).toEqual(['--only', '1', '--submit']);
  });

  it('treats a damaged record as CORRUPT, and the hint then as absent', async () => {
    const dataset = join(tmp.dir, 'four');
    await writeFile(join(dataset, JOB_RECORD), '{"kind":"retina-slurm-job"');
    await expect(readJobRecord(dataset)).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(await resubmitHint(dataset, [1], 4)).toBeUndefined();
    await writeFile(join(dataset, JOB_RECORD), JSON.stringify({ kind: 'retina-slurm-job', version: 1, dataset, tasks: 4, offset: 0, argv: [1], submissions: [] }));
    await expect(readJobRecord(dataset)).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(asJobRecord(JSON.parse(await readFile(join(dataset, JOB_RECORD), 'utf8')))).toBeUndefined();
  });
});
