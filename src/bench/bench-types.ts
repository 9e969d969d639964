/**
 * Types of the formats study (`retina bench formats`): what one measurement of one source is, what
 * the summary over repeats is, and the report that `--json`, `report.json`, `report.md` and the
 * chart are all rendered from.
 */

/** A storage format name (raw, msgpack, lmdb, tfjs, …) or `images`: JPEGs decoded every epoch. */
export type SourceName = string;

/** The on-the-fly baseline's name. */
export const IMAGES = 'images';

/** Everything measured for one source in one repeat. `null` where a figure does not apply. */
export interface RunMeasurement {
  source: SourceName;
  /** 0-based repeat index. */
  repeat: number;
  /** Preprocessing wall time (formats only). */
  preprocessSeconds: number | null;
  writeImagesPerSecond: number | null;
  /** Dataset size on disk (formats), or the source JPEGs (images). */
  bytesOnDisk: number;
  records: number;
  /** Sequential read into uint8 batches; for `images`, decode + transform. */
  readImagesPerSecond: number;
  /** Sequential read into float32 batches scaled to [-1, 1]. */
  readFloatImagesPerSecond: number;
  /** Reads in a shuffled order, one record at a time. */
  randomReadImagesPerSecond: number;
  /** Whole training call (all epochs, feature extraction included). */
  trainSeconds: number;
  /** Per-epoch wall time as the trainer reported it. */
  epochSeconds: number[];
  /** Share (0-1) of the source's file bytes in the page cache just before the reads; null if not probed. */
  residentBeforeRead: number | null;
  /** Final validation accuracy and kappa of the training (a sanity check that it trained). */
  valAccuracy: number | null;
  valKappa: number | null;
}

/** Median, min and max of one figure over the repeats, and the raw runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

/** The figures of `RunMeasurement` that get a `Spread`. */
export const METRICS = [
  'bytesOnDisk',
  'writeImagesPerSecond',
  'readImagesPerSecond',
  'readFloatImagesPerSecond',
  'randomReadImagesPerSecond',
  'preprocessSeconds',
  'trainSeconds',
  'epochSeconds',
  'secondsPerEpoch',
  'speedupVsImages',
] as const;
export type Metric = (typeof METRICS)[number];

/** One row of the report: a source summarized over the repeats (each figure a median). */
export interface SourceResult {
  source: SourceName;
  bytesOnDisk: number;
  bytesPerRecord: number;
  records: number;
  writeImagesPerSecond: number | null;
  readImagesPerSecond: number;
  readFloatImagesPerSecond: number;
  randomReadImagesPerSecond: number;
  preprocessSeconds: number | null;
  trainSeconds: number;
  /** Mean of the trainer's per-epoch times (the epoch loop only; median over repeats). */
  epochSeconds: number;
  /**
   * Whole training divided by epochs (model build and feature extraction included; median over
   * repeats): what an epoch costs all in, the figure the chart and table show. With the feature
   * cache on, nearly all of it is the one-time feature extraction.
   */
  secondsPerEpoch: number;
  /** Median over repeats of (images' trainSeconds / this source's trainSeconds) in the same repeat. */
  speedupVsImages: number | null;
  /** Preprocessing plus training: the seed's "serialized" condition end to end. */
  endToEndSeconds: number;
  /** Min/max/runs of each figure; absent where the figure does not apply to the source. */
  spread: Partial<Record<Metric, Spread>>;
  residentBeforeRead: number | null;
  valAccuracy: number | null;
  valKappa: number | null;
}

/** The machine the study ran on, written on the chart and into every report. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  cpusSource: string;
  memoryBytes: number;
  node: string;
  platform: string;
  kernel: string;
  /** tfjs backend the trainer used (wasm, cpu, tensorflow), or "unknown" before training. */
  backend: string;
  /** 1-minute load average at the start: a contended machine shows here. */
  loadAverage: number;
  hostname: string;
}

/** How the page cache was handled. */
export interface CacheInfo {
  mode: 'warm' | 'cold';
  /** One sentence for people: what "warm"/"cold" meant in this run and how it was checked. */
  statement: string;
  /** Whether residency was probed (util-linux `fincore`). */
  probed: boolean;
}

/** The seed's published Experiment 3 figures, shown beside ours by `--preset seed-exp3`. */
export interface PublishedFigures {
  label: string;
  machine: string;
  /** Epochs of the published runs. */
  epochs: number;
  serializedSeconds: [number, number];
  onTheFlySeconds: [number, number];
}

/** Resolved settings of a study (after preset and defaults). */
export interface StudyConfig {
  preset: string | null;
  data: 'synthetic' | 'user';
  images: string;
  labels: string;
  count: number;
  formats: string[];
  model: string;
  epochs: number;
  batchSize: number;
  repeat: number;
  size: number;
  seed: number;
  cold: boolean;
  /** The trainer's frozen-backbone feature cache: on means each source is read once per training, not every epoch. */
  cacheFeatures: boolean;
  /** Share of patients in the validation split. */
  valFraction: number;
  /** Train/validation images as the trainer split them (known after the first training). */
  split: { train: number; val: number } | null;
  /** --images: only the first N data rows of --labels (as preprocess --limit); null for all. */
  limit: number | null;
  /** --images: go on without invalid rows, listed in OUT/rejects.csv (as preprocess --skip-invalid). */
  skipInvalid: boolean;
  /** --images with --skip-invalid: the rows left out. */
  rejected: number;
}

/** The whole report: `--json` prints this; report.json is this; report.md and the chart render it. */
export interface BenchReport {
  kind: 'retina-bench-formats';
  version: 1;
  createdAt: string;
  machine: MachineInfo;
  config: StudyConfig;
  cache: CacheInfo;
  results: SourceResult[];
  runs: RunMeasurement[];
  published: PublishedFigures | null;
  /** Paths of the files written (absent before they are written). */
  outputs: { dir: string; reportJson: string; reportMd: string; chartHtml: string; chartSvg: string } | null;
  /** A contact sheet of training records from the first format's dataset (#19), beside the report; absent when no format was run. */
  recordsSheet?: { file: string; format: string; split: 'train'; tiles: number; ids: string[] };
  totalSeconds: number;
}
