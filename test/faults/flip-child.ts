/**
 * Child process of the fault suite's flip category: for each FILE:POSITION:MASK job, flips those
 * bits of DATASET/FILE, runs `verifyDataset` and a full read through `openDataset`, compares every
 * record with the reference (REF: a JSON file of per-record xxh64 + meta), restores the byte, and
 * prints one JSON line per job. A child, because a flip that reached native code could kill the
 * process: the parent sees which job was running when it died.
 * Usage: node --import tsx flip-child.ts DATASET REF JOBS_FILE START
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../../formats/dataset.js';
import { verifyDataset } from '../../formats/verify.js';
import { xxh64Hex } from '../../src/core/checksum.js';
import { RetinaError } from '../../src/core/errors.js';

const [dataset, refFile, jobsFile, start] = process.argv.slice(2);
const ref = JSON.parse(await readFile(refFile!, 'utf8')) as Array<{ id: string; label: number; split: string; xxh64: string }>;
const jobs = JSON.parse(await readFile(jobsFile!, 'utf8')) as Array<{ file: string; pos: number; mask: number }>;

async function flip(path: string, pos: number, mask: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, pos);
    b[0]! ^= mask;
    await fh.write(b, 0, 1, pos);
  } finally {
    await fh.close();
  }
}

const codeOf = (err: unknown) => (err instanceof RetinaError ? err.code : `raw:${(err as Error).message.slice(0, 120)}`);

for (let j = Number(start); j < jobs.length; j++) {
  const job = jobs[j]!;
  const path = join(dataset!, job.file);
  process.stdout.write(`${JSON.stringify({ j, state: 'start' })}\n`);
  await flip(path, job.pos, job.mask);
  let verify: string;
  try {
    const v = await verifyDataset(dataset!);
    verify = v.ok ? 'ok' : 'errors';
  } catch (err) {
    verify = codeOf(err);
  }
  let read: string;
  try {
    const r = await openDataset(dataset!);
    try {
      let same = r.count === ref.length;
      for (let i = 0; same && i < r.count; i++) {
        const rec = await r.get(i);
        const want = ref[i]!;
        same = rec.id === want.id && rec.label === want.label && rec.split === want.split && xxh64Hex(rec.tensor) === want.xxh64;
      }
      read = same ? 'same' : 'different';
    } finally {
      await r.close();
    }
  } catch (err) {
    read = codeOf(err);
  }
  await flip(path, job.pos, job.mask);
  process.stdout.write(`${JSON.stringify({ j, verify, read })}\n`);
}
