/**
 * Array efficiency over 1, 2 and 3 hosts of the multi-host test cluster
 * (test/cluster/slurm-cluster.sh up): the same images preprocessed by a k-task array, one task
 * per host, each task with the host's 2 CPUs (--cpus-per-task 2, so Slurm puts one task on each
 * host). Efficiency E(k) = T1 / (k * Tk): 1.0 when k hosts finish in 1/k of the time.
 *
 *   npx tsx bench/slurm-hosts.ts [--images 600] [--repeats 2] [--size 299]
 *
 * On one machine the hosts share its CPUs, so k hosts bring no new CPUs: expect Tk close to T1
 * (E(k) near 1/k) plus what k processes cost over one. What it does measure: that the work is split
 * evenly and placed one task per host, and the per-task overhead (start-up, scheduling, index).
 * Wall time runs from sbatch until the last task ends (squeue polled every 200 ms).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateFixtures } from '../fixtures/generate.js';
import { planArray } from '../slurm/array-spec.js';
import { slurmPreprocess } from '../slurm/preprocess-job.js';
import { taskLogPath } from '../slurm/render-preprocess.js';
import { waitForJobs } from '../slurm/wait.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '600' }, repeats: { type: 'string', default: '2' }, size: { type: 'string', default: '299' } } });
const count = Number(values.images), repeats = Number(values.repeats), size = Number(values.size);
const env = { ...process.env, SLURM_CONF: join(process.env['RETINA_CLUSTER_DIR'] ?? '/tmp/retina-cluster', 'slurm.conf') };

interface Run { hosts: number; wall: number; taskSeconds: number[]; placed: string[] }

async function once(dir: string, hosts: number, tag: string): Promise<Run> {
  const out = join(dir, `out-${tag}`);
  const resources = { jobName: `bench-${tag}`, cpusPerTask: 2, mem: '1G', time: '00:30:00' };
  const t0 = performance.now();
  const r = await slurmPreprocess({
    spec: {
      plan: planArray({ tasks: hosts }),
      preprocess: { format: 'raw', images: join(dir, 'fx', 'train'), labels: join(dir, 'fx', 'trainLabels.csv'), out, size },
      resources, indexResources: { ...resources, cpusPerTask: 1, jobName: `bench-${tag}-index` },
    },
    submit: true, env,
  });
  const jobs = Array.from({ length: hosts }, (_, t) => ({ id: `${r.arrayJobId}_${t}`, label: `shard ${t}`, log: taskLogPath(out, r.arrayJobId as string, t) }));
  const outcomes = await waitForJobs(jobs, { minIntervalMs: 200, maxIntervalMs: 200, timeoutMs: 1_800_000, env });
  const wall = (performance.now() - t0) / 1000;
  if (outcomes.some((o) => o.kind !== 'ok')) throw new Error(`bench run ${tag} failed: ${JSON.stringify(outcomes)}`);
  const logs = await Promise.all(jobs.map((j) => readFile(j.log, 'utf8')));
  // preprocess logs "N records, X images/s": records / rate = the task's own seconds.
  const taskSeconds = logs.map((text) => {
    const m = /: (\d+) records, ([\d.]+) images\/s/.exec(text);
    return m ? Number(m[1]) / Number(m[2]) : NaN;
  });
  const placed = logs.map((text) => / on (\S+) at /.exec(text)?.[1] ?? '?');
  await waitForJobs([{ id: r.indexJobId as string, label: 'index', log: '' }], { minIntervalMs: 200, maxIntervalMs: 1000, env });
  await rm(out, { recursive: true, force: true });
  return { hosts, wall, taskSeconds, placed };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = await mkdtemp(join(tmpdir(), 'retina-bench-hosts-'));
try {
  await generateFixtures({ out: join(dir, 'fx'), count, seed: 7, size: { width: 320, height: 240 }, concurrency: 2 });
  const runs: Run[] = [];
  const load0 = loadavg()[0] as number;
  for (let i = 0; i < repeats; i++) {
    // Alternate the order so drift in the machine's load hits every configuration alike.
    for (const k of i % 2 === 0 ? [1, 2, 3] : [3, 2, 1]) {
      const run = await once(dir, k, `${k}h-${i}`);
      runs.push(run);
      console.error(`run ${i}: ${k} host(s) [${run.placed.join(' ')}]: ${run.wall.toFixed(2)} s wall, tasks ${run.taskSeconds.map((s) => s.toFixed(2)).join(' / ')} s`);
    }
  }
  const pick = (k: number) => runs.filter((r) => r.hosts === k);
  const wall = (k: number) => median(pick(k).map((r) => r.wall));
  const slowest = (k: number) => median(pick(k).map((r) => Math.max(...r.taskSeconds)));
  let slurmVersion = '?';
  try { slurmVersion = execFileSync('sbatch', ['--version'], { encoding: 'utf8', env }).trim(); } catch { /* reported as ? */ }
  const rows = [1, 2, 3].map((k) => {
    const e = wall(1) / (k * wall(k)), ep = slowest(1) / (k * slowest(k));
    return `| ${k} | ${[...new Set(pick(k).flatMap((r) => r.placed))].sort().join(', ')} | ${wall(k).toFixed(2)} | ${slowest(k).toFixed(2)} | ${e.toFixed(2)} | ${ep.toFixed(2)} | ${(1 / k).toFixed(2)} |`;
  });
  console.log([
    `Slurm array over hosts of the test cluster, ${count} images 320x240 -> ${size}px raw, one task per host x 2 CPUs, ${repeats} repeats (median), ${new Date().toISOString()}`,
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}) shared by all hosts, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${slurmVersion}, load average at start ${load0.toFixed(1)}, at end ${(loadavg()[0] as number).toFixed(1)}`,
    '',
    '| hosts k | hosts used | wall s (sbatch -> last task) | slowest task s | efficiency T1/(k Tk), wall | same, task time | E if the hosts share the CPUs (1/k) |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `all runs (wall s): ${runs.map((r) => `${r.hosts}h=${r.wall.toFixed(2)}`).join(', ')}`,
  ].join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
