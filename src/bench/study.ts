import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateFixtures } from '../../fixtures/generate.js';
import { formatNames } from '../../formats/format-registry.js';
import { usableCpus } from '../core/cpus.js';
import { RetinaError } from '../core/errors.js';
import { createLogger, LOG_LEVELS, silentLogger, type Logger, type LogLevel } from '../core/log.js';
import { assertCanDropCaches, bytesUnder, cacheStatement, dropCaches, hasFincore, residentFraction } from './page-cache.js';
import { machineInfo } from './machine.js';
import { resolveStudy, type StudyRequest } from './options.js';
import { ProgressReporter, type Phase, type Step } from './bench-progress.js';
import { writeReport } from './report.js';
import { writeContactSheet } from '../inspect/contact-sheet.js';
import { summarize } from './stats.js';
import { measureDatasetReads, measureImageReads, prepareUserImages, preprocessDataset, studyImageFiles, trainSource } from './steps.js';
import { IMAGES, type BenchReport, type RunMeasurement } from './bench-types.js';

/** The report's contact sheet of training records (file name beside report.md, tiles per grade). */
export const RECORDS_SHEET = 'records.png';
const RECORDS_PER_GRADE = 4;

/** Everything `retina bench formats` needs: the study request plus where and how to run it. */
export interface FormatsStudyOptions extends StudyRequest {
  /** Report folder; default `./retina-bench/<UTC timestamp>`. */
  out?: string | undefined;
  /** Keep the generated images, datasets and run folders (under OUT/work-XXXXXX) instead of deleting them. */
  keepData?: boolean | undefined;
  /** CPUs for preprocessing and feature extraction; default `usableCpus()`. */
  threads?: number | undefined;
  logger?: Logger | undefined;
  /** Where the progress line goes (stderr); none when undefined. */
  progress?: { write(text: string): void; isTTY: boolean } | undefined;
  signal?: AbortSignal | undefined;
}

/** At least `warn`: `info` becomes `warn`, quieter levels stay. */
function quieter(level: LogLevel): LogLevel {
  return LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf('warn') ? 'warn' : level;
}

/** `2026-11-26T09-05-03Z`: sortable and safe as a folder name. */
export function timestampName(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** Sources of repeat `r`: images and the formats, rotated by one per repeat so no source always runs first (warm-up and drift spread over all). */
export function sourceOrder(sources: readonly string[], repeat: number): string[] {
  const k = repeat % sources.length;
  return [...sources.slice(k), ...sources.slice(0, k)];
}

const FORMAT_PHASES: Phase[] = ['preprocess', 'read', 'read-float', 'read-random', 'train'];
const IMAGE_PHASES: Phase[] = ['read', 'read-float', 'read-random', 'train'];

/** The full plan of steps, for progress and ETA. */
export function studyPlan(formats: readonly string[], repeats: number): Step[] {
  const steps: Step[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const source of sourceOrder([IMAGES, ...formats], repeat)) {
      for (const phase of source === IMAGES ? IMAGE_PHASES : FORMAT_PHASES) steps.push({ repeat, source, phase });
    }
  }
  return steps;
}

/**
 * Run the serialized-vs-on-the-fly study: for each repeat, each format is preprocessed from the
 * images, measured on disk, read three ways and trained from; `images` is read (decode +
 * transform) and trained from directly. Writes report.json, report.md, chart.svg and chart.html
 * into the report folder and returns the report.
 *
 * @throws RetinaError from argument checks (BAD_ARGUMENT), `--cold` where caches cannot be
 *   dropped (UNSUPPORTED), and whatever preprocessing or training reports; ABORTED on signal.
 */
export async function runFormatsStudy(opts: FormatsStudyOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const baseLog = opts.logger ?? silentLogger;
  const { config, published } = resolveStudy(opts, formatNames());
  const valFraction = config.valFraction;
  if (config.cold) assertCanDropCaches();
  const createdAt = new Date();
  const outDir = resolve(opts.out ?? join('retina-bench', timestampName(createdAt)));
  const threads = usableCpus(opts.threads).cpus;
  const probed = await hasFincore();
  const machine = machineInfo();
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new RetinaError('ABORTED', 'Interrupted: the study stopped; no report was written', { hint: 'Rerun the command.' });
  };

  const outExisted = await stat(outDir).then(() => true, () => false);
  await mkdir(outDir, { recursive: true });
  // A folder of our own (never a `work` the user already had there): it is deleted at the end.
  const work = await mkdtemp(join(outDir, 'work-'));
  // The study's working copies of the images and labels (synthetic, or the user's rows that have an image).
  let images = config.images, labels = config.labels;
  let finished = false;
  const progress = new ProgressReporter(studyPlan(config.formats, config.repeat), config.repeat, opts.progress);
  // On a terminal, log lines (ours and the libraries') go above the progress line, not into it.
  const log = opts.progress?.isTTY ? createLogger(baseLog.level, (line) => progress.print(line)) : baseLog;
  // Preprocessing and training narrate every run at info level: dozens of runs would bury the
  // study's own lines, so they speak only at warn unless --log-level debug.
  const libLog = baseLog.level === 'debug' ? log
    : opts.progress?.isTTY ? createLogger(quieter(baseLog.level), (line) => progress.print(line))
    : createLogger(quieter(baseLog.level));
  try {
    // 1. The images: a synthetic Kaggle-layout set, or (a prefix of) the user's.
    if (config.data === 'synthetic') {
      const dir = join(work, 'images');
      log.info(`generating ${config.count} synthetic Kaggle-layout images in ${dir}`);
      const fx = await generateFixtures({ out: dir, count: config.count, seed: config.seed, concurrency: threads, logger: log });
      images = join(dir, 'train');
      labels = fx.labels;
    } else {
      // The report names the user's own files (absolute), never the study's copy under work/,
      // which is deleted at the end.
      config.images = resolve(config.images);
      config.labels = resolve(config.labels);
      const prepared = await prepareUserImages({
        images: config.images, labels: config.labels, count: config.count, work,
        limit: config.limit ?? undefined, skipInvalid: config.skipInvalid, rejectsFile: join(outDir, 'rejects.csv'),
      });
      config.rejected = prepared.skipped;
      if (prepared.skipped > 0) log.warn(`skipping ${prepared.skipped} invalid rows (--skip-invalid): listed in ${join(outDir, 'rejects.csv')}`);
      images = prepared.images;
      labels = prepared.labels;
      config.count = prepared.count;
    }
    const imageFiles = await studyImageFiles(images, labels);
    const imagesBytes = (await Promise.all(imageFiles.map(bytesUnder))).reduce((a, b) => a + b, 0);

    log.info(`training: frozen ${config.model} with random weights in every run; the study measures time, and its kappa says nothing about the data (train with --weights for that)`);
    // 2. The repeats.
    const runs: RunMeasurement[] = [];
    let backend = 'unknown';
    const cold = async () => {
      if (config.cold) await dropCaches();
    };
    for (let repeat = 0; repeat < config.repeat; repeat++) {
      for (const source of sourceOrder([IMAGES, ...config.formats], repeat)) {
        checkAbort();
        const step = (phase: Phase) => progress.begin({ repeat, source, phase });
        const isImages = source === IMAGES;
        const dataset = join(work, 'datasets', source);
        let preprocessSeconds: number | null = null, writeImagesPerSecond: number | null = null;
        let records = config.count, bytesOnDisk = imagesBytes;
        if (!isImages) {
          step('preprocess');
          await rm(dataset, { recursive: true, force: true });
          const pre = await preprocessDataset({ images, labels, out: dataset, format: source, size: config.size, valFraction, seed: config.seed, threads, logger: libLog, signal: opts.signal });
          preprocessSeconds = pre.seconds;
          writeImagesPerSecond = pre.imagesPerSecond;
          records = pre.records;
          bytesOnDisk = await bytesUnder(dataset);
        }
        await cold();
        const residentBeforeRead = probed ? await residentFraction(isImages ? imageFiles : dataset) : null;
        const reads = isImages
          ? await measureImageReads({ files: imageFiles, size: config.size, batchSize: config.batchSize, seed: config.seed + repeat, cold: config.cold, before: cold, onPhase: step })
          : await measureDatasetReads({ dataset, batchSize: config.batchSize, seed: config.seed + repeat, cold: config.cold, before: cold, onPhase: step });
        checkAbort();
        step('train');
        await cold();
        const trained = await trainSource({
          source, dataset: isImages ? undefined : dataset, images, labels, valFraction,
          model: config.model, epochs: config.epochs, batchSize: config.batchSize, seed: config.seed, size: config.size,
          cacheFeatures: config.cacheFeatures, runDir: join(work, 'runs', `${source}-${repeat}`), threads, logger: libLog, signal: opts.signal,
        });
        // An InceptionV3 run folder holds an 87 MB model: keep only what was asked for.
        if (!opts.keepData) await rm(join(work, 'runs', `${source}-${repeat}`), { recursive: true, force: true });
        backend = trained.backend;
        config.split ??= { train: trained.trainImages, val: trained.valImages };
        progress.end();
        runs.push({
          source, repeat, preprocessSeconds, writeImagesPerSecond, bytesOnDisk, records,
          readImagesPerSecond: reads.uint8, readFloatImagesPerSecond: reads.float, randomReadImagesPerSecond: reads.random,
          trainSeconds: trained.seconds, epochSeconds: trained.epochSeconds, residentBeforeRead,
          valAccuracy: trained.valAccuracy, valKappa: trained.valKappa,
        });
        log.info(`repeat ${repeat + 1}/${config.repeat} ${source}: read ${reads.uint8.toFixed(0)} img/s, train ${trained.seconds.toFixed(1)} s`);
      }
    }
    progress.close();
    // What the runs trained on, as a picture: a few training records per grade of the first
    // format's dataset, read back through its reader (datasets are identical across formats).
    const sheetFormat = config.formats[0];
    const sheet = sheetFormat === undefined ? undefined
      : await writeContactSheet(join(work, 'datasets', sheetFormat), { out: join(outDir, RECORDS_SHEET), split: 'train', perGrade: RECORDS_PER_GRADE, seed: config.seed });

    const report: BenchReport = {
      kind: 'retina-bench-formats',
      version: 1,
      createdAt: createdAt.toISOString(),
      machine: { ...machine, backend },
      config,
      cache: { mode: config.cold ? 'cold' : 'warm', statement: cacheStatement(config.cold, probed), probed },
      results: summarize(runs, [IMAGES, ...config.formats]),
      runs,
      published,
      outputs: null,
      ...(sheet && sheetFormat ? { recordsSheet: { file: sheet.file, format: sheetFormat, split: 'train' as const, tiles: sheet.tiles, ids: sheet.ids } } : {}),
      totalSeconds: (performance.now() - t0) / 1000,
    };
    const written = await writeReport(report, outDir);
    finished = true;
    return written;
  } finally {
    progress.close();
    if (!opts.keepData) await rm(work, { recursive: true, force: true });
    // A failed or interrupted study leaves no empty report folder of its own making behind.
    if (!finished && !outExisted && (await readdir(outDir).catch(() => ['?'])).length === 0) await rm(outDir, { recursive: true, force: true });
  }
}
