/**
 * Slurm array scaling on this machine: the same images preprocessed by a 1-task array and by a
 * 2-task array, each task with one CPU (--cpus-per-task 1), on the real local Slurm.
 * Efficiency = T1 / (2 * T2): 1.0 means two tasks finish in half the time of one.
 * Also runs 1 task with 2 CPUs (threads inside one process) for comparison.
 *
 *   npx tsx bench/slurm-scaling.ts [--images 1600] [--repeats 3] [--size 299]
 *
 * Times are wall clock from sbatch to the last task's end as seen by polling squeue every 200 ms
 * (so they include Slurm's scheduling latency, about a second here), and each task's own
 * preprocess time from its log. Needs sbatch (../shared/tools/slurm-local.sh up).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateFixtures } from '../fixtures/generate.js';
import { planArray } from '../slurm/array-spec.js';
import { slurmPreprocess } from '../slurm/preprocess-job.js';
import { taskLogPath } from '../slurm/render-preprocess.js';
import { waitForJobs } from '../slurm/wait.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '1600' }, repeats: { type: 'string', default: '3' }, size: { type: 'string', default: '299' } } });
const count = Number(values.images), repeats = Number(values.repeats), size = Number(values.size);

interface Run { tasks: number; cpus: number; wall: number; taskSeconds: number[] }

async function once(dir: string, tasks: number, cpusPerTask: number, tag: string): Promise<Run> {
  const out = join(dir, `out-${tag}`);
  const resources = { jobName: `bench-${tag}`, cpusPerTask, mem: '2G', time: '00:30:00' };
  const t0 = performance.now();
  const r = await slurmPreprocess({
    spec: {
      plan: planArray({ tasks }),
      preprocess: { format: 'raw', images: join(dir, 'fx', 'train'), labels: join(dir, 'fx', 'trainLabels.csv'), out, size },
      resources, indexResources: { ...resources, cpusPerTask: 1, jobName: `bench-${tag}-index` },
    },
    submit: true,
  });
  const jobs = Array.from({ length: tasks }, (_, t) => ({ id: `${r.arrayJobId}_${t}`, label: `shard ${t}`, log: taskLogPath(out, r.arrayJobId as string, t) }));
  const outcomes = await waitForJobs(jobs, { minIntervalMs: 200, maxIntervalMs: 200, timeoutMs: 1_800_000 });
  const wall = (performance.now() - t0) / 1000;
  if (outcomes.some((o) => o.kind !== 'ok')) throw new Error(`bench run ${tag} failed: ${JSON.stringify(outcomes)}`);
  // Each task's own time: preprocess logs "N records, X images/s"; records / rate = seconds.
  const taskSeconds = await Promise.all(jobs.map(async (j) => {
    const m = /: (\d+) records, ([\d.]+) images\/s/.exec(await readFile(j.log, 'utf8'));
    return m ? Number(m[1]) / Number(m[2]) : NaN;
  }));
  await waitForJobs([{ id: r.indexJobId as string, label: 'index', log: '' }], { minIntervalMs: 200, maxIntervalMs: 1000 });
  await rm(out, { recursive: true, force: true });
  return { tasks, cpus: cpusPerTask, wall, taskSeconds };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = await mkdtemp(join(tmpdir(), 'retina-bench-slurm-'));
try {
  await generateFixtures({ out: join(dir, 'fx'), count, seed: 7, size: { width: 320, height: 240 }, concurrency: 2 });
  const runs: Run[] = [];
  for (let i = 0; i < repeats; i++) {
    // Alternate the order so drift in the machine's load hits every configuration alike.
    const configs: Array<[number, number]> = i % 2 === 0 ? [[1, 1], [2, 1], [1, 2]] : [[1, 2], [2, 1], [1, 1]];
    for (const [tasks, c] of configs) {
      const run = await once(dir, tasks, c, `${tasks}x${c}-${i}`);
      runs.push(run);
      console.error(`run ${i}: ${tasks} task(s) x ${c} CPU(s): ${run.wall.toFixed(2)} s wall, tasks ${run.taskSeconds.map((s) => s.toFixed(2)).join(' / ')} s`);
    }
  }
  const pick = (t: number, c: number) => runs.filter((r) => r.tasks === t && r.cpus === c);
  const t1 = median(pick(1, 1).map((r) => r.wall)), t2 = median(pick(2, 1).map((r) => r.wall)), t12 = median(pick(1, 2).map((r) => r.wall));
  const w1 = median(pick(1, 1).map((r) => r.taskSeconds[0] as number));
  const w2 = median(pick(2, 1).map((r) => Math.max(...r.taskSeconds)));
  // Paired per repeat (1x1 and 2x1 of the same repeat ran back to back, under similar load).
  const paired = Array.from({ length: repeats }, (_, i) => {
    const a = runs.find((r) => r.tasks === 1 && r.cpus === 1 && runs.indexOf(r) >= i * 3 && runs.indexOf(r) < i * 3 + 3);
    const b = runs.find((r) => r.tasks === 2 && runs.indexOf(r) >= i * 3 && runs.indexOf(r) < i * 3 + 3);
    return a && b ? a.wall / (2 * b.wall) : NaN;
  });
  let slurmVersion = '?';
  try { slurmVersion = execFileSync('sbatch', ['--version'], { encoding: 'utf8' }).trim(); } catch { /* reported as ? */ }
  console.log([
    `Slurm array scaling, ${count} images 320x240 -> ${size}px raw, ${repeats} repeats (median), ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${slurmVersion}`,
    '',
    '| configuration | wall s (sbatch -> last task done) | slowest task\'s preprocess s |',
    '|---|---|---|',
    `| 1 task x 1 CPU (T1) | ${t1.toFixed(2)} | ${w1.toFixed(2)} |`,
    `| 2 tasks x 1 CPU (T2) | ${t2.toFixed(2)} | ${w2.toFixed(2)} |`,
    `| 1 task x 2 CPUs | ${t12.toFixed(2)} | ${median(pick(1, 2).map((r) => r.taskSeconds[0] as number)).toFixed(2)} |`,
    '',
    `efficiency T1 / (2 T2): wall ${(t1 / (2 * t2)).toFixed(2)}, preprocess-only ${(w1 / (2 * w2)).toFixed(2)}`,
    `efficiency paired per repeat (wall): ${paired.map((e) => e.toFixed(2)).join(', ')}; median ${median(paired).toFixed(2)}`,
    `all runs (wall s): ${runs.map((r) => `${r.tasks}x${r.cpus}=${r.wall.toFixed(2)}`).join(', ')}`,
  ].join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
