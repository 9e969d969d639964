/**
 * The seed's Experiment 3 on this machine, end to end through the CLI (fresh process per step):
 * 200 synthetic Kaggle-layout images (camera sizes / 4, Kaggle grade mix), 180 train / 20 val,
 * inception-v3 with frozen backbone, batch 32, 15 epochs; serialized (preprocess to lmdb, train
 * from it) against on the fly (decode + transform every epoch), each with and without the feature
 * cache. Runs without the cache are slow (a full InceptionV3 forward per image per epoch), so they
 * run `--full-epochs` epochs (default 2) and are extrapolated to 15: setup + 15 x mean epoch time.
 *
 * `--backends onnxruntime,wasm` runs every condition on each backend in turn (names suffixed
 * `@backend`), so the figures sit side by side in one run; default: auto only.
 *
 *   npx tsx bench/train-exp3.ts [--count 200] [--epochs 15] [--full-epochs 2] [--backends auto] [--out DIR]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateFixtures } from '../fixtures/generate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: {
  count: { type: 'string', default: '200' }, epochs: { type: 'string', default: '15' },
  'full-epochs': { type: 'string', default: '2' }, out: { type: 'string' }, skip: { type: 'string', default: '' },
  backends: { type: 'string', default: 'auto' },
} });
const count = Number(values.count), epochs = Number(values.epochs), fullEpochs = Number(values['full-epochs']);
const skip = new Set(values.skip.split(',').filter(Boolean));

/** CPU seconds (user + system) of this process' finished children (/proc/self/stat cutime + cstime). */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime) are 13 and 14 after the command name, in ticks.
  return (Number(f[13]) + Number(f[14])) / 100;
}

function cli(args: string[]): Promise<{ seconds: number; cpuSeconds: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const c0 = childCpuSeconds();
  return new Promise((resolve, reject) => {
    // bin/run.js executed: its shebang starts Node as users get it (src/node-flags.ts).
    execFile(join(ROOT, 'bin', 'run.js'), [...args, '--json'], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`retina ${args.join(' ')} failed: ${stderr}\n${stdout}`));
      resolve({ seconds: (performance.now() - t0) / 1000, cpuSeconds: childCpuSeconds() - c0, json: JSON.parse(stdout) as Record<string, unknown> });
    });
  });
}

interface Epoch { seconds: number; dataWaitSeconds: number; computeSeconds: number }
interface TrainJson { epochs: Epoch[]; final: { valKappa: number; valAccuracy: number }; timing: { setupSeconds: number; featureSeconds: number; epochSeconds: number; totalSeconds: number }; featureCache: { seconds: number; threads: number } | null; trainImages: number; valImages: number }

const work = values.out ?? await mkdtemp(join(tmpdir(), 'retina-exp3-'));
const fx = join(work, 'fx');
console.error(`exp3: ${count} fixtures in ${fx} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
await generateFixtures({ out: fx, count, seed: 1, size: 'mixed', distribution: 'kaggle', concurrency: 2 });
const images = join(fx, 'train'), labels = join(fx, 'trainLabels.csv');
const rows: Record<string, unknown>[] = [];

const pre = await cli(['preprocess', '--images', images, '--labels', labels, '--out', join(work, 'lmdb'), '--format', 'lmdb', '--size', '299', '--force']);
console.error(`preprocess lmdb: ${pre.seconds.toFixed(1)} s`);

async function run(condition: string, source: string[], cache: boolean, n: number, backend: string): Promise<void> {
  const name = backend === 'auto' ? condition : `${condition}@${backend}`;
  if (skip.has(condition) || skip.has(name)) return;
  const out = join(work, `run-${name}`);
  const r = await cli(['train', ...source, '--model', 'inception-v3', '--epochs', String(n), '--batch-size', '32',
    '--out', out, '--force', '--cache-dir', join(work, `cache-${name}`), cache ? '--cache-features' : '--no-cache-features', '--backend', backend]);
  const j = r.json as unknown as TrainJson;
  const meanEpoch = j.timing.epochSeconds / j.epochs.length;
  const overhead = r.seconds - j.timing.epochSeconds;
  const projected = n === epochs ? r.seconds : overhead + meanEpoch * epochs;
  const withPre = source[1] === 'lmdb' ? projected + pre.seconds : projected;
  const row = {
    // CPU seconds of the whole CLI process (all threads): on a contended machine, what the run
    // would cost a quiet one, give or take the serial parts.
    name, epochsRun: n, wallSeconds: r.seconds, cpuSeconds: r.cpuSeconds, featureSeconds: j.timing.featureSeconds, featureThreads: j.featureCache?.threads ?? 0,
    meanEpochSeconds: meanEpoch, meanDataWaitSeconds: j.epochs.reduce((a, e) => a + e.dataWaitSeconds, 0) / j.epochs.length,
    projected15Seconds: projected, endToEndSeconds: withPre, valKappa: j.final.valKappa, train: j.trainImages, val: j.valImages,
  };
  rows.push(row);
  console.error(JSON.stringify(row));
}

for (const backend of values.backends.split(',').filter(Boolean)) {
  await run('lmdb-cache', ['--source', 'lmdb', '--data', join(work, 'lmdb')], true, epochs, backend);
  await run('images-cache', ['--source', 'images', '--images', images, '--labels', labels], true, epochs, backend);
  await run('lmdb-full', ['--source', 'lmdb', '--data', join(work, 'lmdb')], false, fullEpochs, backend);
  await run('images-full', ['--source', 'images', '--images', images, '--labels', labels], false, fullEpochs, backend);
}

const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg: loadavg(), date: new Date().toISOString() };
const report = { machine, preprocessSeconds: pre.seconds, rows };
await writeFile(join(work, 'exp3.json'), JSON.stringify(report, null, 2));
console.log(`| condition | epochs run | wall s | features s (threads) | mean epoch s | mean data wait s | 15 epochs s | + preprocess s |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of rows as { name: string; epochsRun: number; wallSeconds: number; featureSeconds: number; featureThreads: number; meanEpochSeconds: number; meanDataWaitSeconds: number; projected15Seconds: number; endToEndSeconds: number }[]) {
  console.log(`| ${r.name} | ${r.epochsRun} | ${r.wallSeconds.toFixed(1)} | ${r.featureSeconds.toFixed(1)} (${r.featureThreads}) | ${r.meanEpochSeconds.toFixed(2)} | ${r.meanDataWaitSeconds.toFixed(2)} | ${r.projected15Seconds.toFixed(1)}${r.epochsRun === epochs ? '' : ' (extrapolated)'} | ${r.endToEndSeconds.toFixed(1)} |`);
}
console.log(`preprocess (lmdb, 299 px): ${pre.seconds.toFixed(1)} s; machine ${JSON.stringify(machine)}; work dir ${work}`);
if (!values.out) await rm(work, { recursive: true, force: true });
