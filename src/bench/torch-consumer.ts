import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { formatNames } from '../../formats/format-registry.js';
import { usableCpus } from '../core/cpus.js';
import { RetinaError } from '../core/errors.js';
import { createLogger, silentLogger, type Logger } from '../core/log.js';
import { pythonInterpreter, pythonPackageDir, withPythonPath } from '../train/torch-engine.js';
import { machineInfo } from './machine.js';
import { prepareUserImages, preprocessDataset } from './steps.js';
import { timestampName } from './study.js';
import { writeTorchReport, type TorchBenchReport, type TorchBenchSource } from './torch-report.js';

/** `retina bench formats --consumer torch`. */
export interface TorchStudyOptions {
  images?: string | undefined;
  labels?: string | undefined;
  count?: number | undefined;
  formats?: string[] | undefined;
  model?: string | undefined;
  epochs?: number | undefined;
  batchSize?: number | undefined;
  size?: number | undefined;
  seed?: number | undefined;
  valFraction?: number | undefined;
  out?: string | undefined;
  keepData?: boolean | undefined;
  threads?: number | undefined;
  /** --images: as preprocess's --limit and --skip-invalid (rejects in OUT/rejects.csv). */
  limit?: number | undefined;
  skipInvalid?: boolean | undefined;
  python?: string | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** Sized for a few minutes on 2 cores: 299 px records (the seed's), 96 images, one epoch. */
export const TORCH_DEFAULTS = { count: 96, size: 299, model: 'inception-v3', epochs: 1, batchSize: 32, seed: 1, valFraction: 0.1, passes: 2 } as const;

function runPython(python: string, argv: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(python, argv, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => fail(new RetinaError('NOT_FOUND', `Cannot start ${python}: ${err.message}`, {
      location: { file: python }, hint: 'Install python3-torch and python3-torchvision (Debian), or name an interpreter with --python / RETINA_PYTHON.',
    })));
    child.once('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (code === 0) ok(out);
      else fail(new RetinaError(signal?.aborted ? 'ABORTED' : 'EXTERNAL', `python -m retina_data.bench_torch exited with status ${code}; its message is above`));
    });
  });
}

function checkBench(v: unknown): { sources: TorchBenchSource[]; torch: string; threads: number; torchSaveWriteSeconds: number } {
  const o = v as { kind?: unknown; sources?: unknown };
  if (o === null || typeof o !== 'object' || o.kind !== 'retina-bench-torch' || !Array.isArray(o.sources)) {
    throw new RetinaError('EXTERNAL', 'retina_data.bench_torch printed no retina-bench-torch document', { hint: 'Reinstall retina and its python/ package from one checkout.' });
  }
  return o as never;
}

/**
 * The PyTorch consumer study: the same records preprocessed into each format, then in one Python
 * process a DataLoader reading each into float batches, the seed's per-file torch.load and
 * on-the-fly PIL paths, and an epoch of the seed model from each. Writes report.json, report.md,
 * chart.svg and chart.html.
 */
export async function runTorchConsumerStudy(opts: TorchStudyOptions): Promise<TorchBenchReport> {
  const t0 = performance.now();
  const log = opts.logger ?? silentLogger;
  const cfg = {
    count: opts.count ?? TORCH_DEFAULTS.count, size: opts.size ?? TORCH_DEFAULTS.size, model: opts.model ?? TORCH_DEFAULTS.model,
    epochs: opts.epochs ?? TORCH_DEFAULTS.epochs, batchSize: opts.batchSize ?? TORCH_DEFAULTS.batchSize, seed: opts.seed ?? TORCH_DEFAULTS.seed,
    valFraction: opts.valFraction ?? TORCH_DEFAULTS.valFraction, passes: TORCH_DEFAULTS.passes,
    formats: opts.formats ?? formatNames(), data: opts.images === undefined ? 'synthetic' : resolve(opts.images),
  };
  for (const f of cfg.formats) if (!formatNames().includes(f)) throw new RetinaError('BAD_ARGUMENT', `Unknown format ${f}; known: ${formatNames().join(', ')}`);
  if (cfg.model === 'inception-v3' && cfg.size < 75) throw new RetinaError('BAD_ARGUMENT', `inception-v3 needs --size 75 or more, got ${cfg.size}`, { hint: 'Use --size 299 (the seed\'s) or --model small-cnn.' });
  const python = pythonInterpreter(opts.python);
  const env = withPythonPath(process.env, pythonPackageDir());
  const threads = usableCpus(opts.threads).cpus;
  const createdAt = new Date();
  const outDir = resolve(opts.out ?? join('retina-bench', `${timestampName(createdAt)}-torch`));
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(outDir, 'work-'));
  const libLog = log.level === 'debug' ? log : createLogger('warn');
  try {
    let images: string, labels: string;
    if (opts.images === undefined) {
      log.info(`generating ${cfg.count} synthetic Kaggle-layout images`);
      const fx = await generateFixtures({ out: join(work, 'images'), count: cfg.count, seed: cfg.seed, concurrency: threads, logger: libLog });
      images = join(work, 'images', 'train');
      labels = fx.labels;
    } else {
      if (opts.labels === undefined) throw new RetinaError('BAD_ARGUMENT', '--images needs --labels');
      const p = await prepareUserImages({
        images: resolve(opts.images), labels: resolve(opts.labels), count: opts.count ?? 0, work,
        limit: opts.limit, skipInvalid: opts.skipInvalid, rejectsFile: join(outDir, 'rejects.csv'),
      });
      images = p.images;
      labels = p.labels;
      cfg.count = p.count;
    }
    const datasets: string[] = [];
    const preprocessing: Record<string, { seconds: number; imagesPerSecond: number }> = {};
    for (const format of cfg.formats) {
      if (opts.signal?.aborted) throw new RetinaError('ABORTED', 'Interrupted: no report was written');
      const out = join(work, 'datasets', format);
      log.info(`preprocessing ${cfg.count} images into ${format} at ${cfg.size}x${cfg.size}`);
      const r = await preprocessDataset({ images, labels, out, format, size: cfg.size, valFraction: cfg.valFraction, seed: cfg.seed, threads, logger: libLog, signal: opts.signal });
      preprocessing[format] = { seconds: r.seconds, imagesPerSecond: r.imagesPerSecond };
      datasets.push('--dataset', `${format}=${out}`);
    }
    log.info(`measuring in ${python} (torch): reads, then ${cfg.epochs} epoch(s) of ${cfg.model} per source`);
    const stdout = await runPython(python, ['-m', 'retina_data.bench_torch', ...datasets, '--images', images, '--work', join(work, 'torch'),
      '--batch-size', String(cfg.batchSize), '--passes', String(cfg.passes), '--seed', String(cfg.seed), '--threads', String(threads),
      '--model', cfg.model, '--epochs', String(cfg.epochs)], env, opts.signal);
    const bench = checkBench(JSON.parse(stdout.trim().split('\n').pop() ?? 'null'));
    const report: TorchBenchReport = {
      kind: 'retina-bench-formats-torch', version: 1, createdAt: createdAt.toISOString(),
      machine: { ...machineInfo(`torch ${bench.torch}, ${bench.threads} thread(s)`) },
      config: { ...cfg, threads },
      sources: bench.sources.map((s) => ({ ...s, preprocess: preprocessing[s.source] ?? null })),
      torchSaveWriteSeconds: bench.torchSaveWriteSeconds,
      outputs: null,
      totalSeconds: (performance.now() - t0) / 1000,
    };
    return await writeTorchReport(report, outDir);
  } finally {
    if (!opts.keepData) await rm(work, { recursive: true, force: true });
  }
}
