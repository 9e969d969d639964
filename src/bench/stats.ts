import { IMAGES, type Metric, type RunMeasurement, type SourceResult, type Spread } from './bench-types.js';

/** Median of `values` (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, min, max and the runs themselves, in repeat order. */
export function spreadOf(runs: readonly number[]): Spread {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/**
 * Speed-up of `source` over `images` per repeat: images' training time divided by the source's,
 * both from the same repeat, so that drift between repeats (another job starting on a shared
 * machine) cancels instead of mixing a fast repeat of one with a slow repeat of the other.
 * Repeats where either side is missing are skipped.
 */
export function speedupsPerRepeat(runs: readonly RunMeasurement[], source: string): number[] {
  const out: number[] = [];
  const repeats = [...new Set(runs.map((r) => r.repeat))].sort((a, b) => a - b);
  for (const repeat of repeats) {
    const base = runs.find((r) => r.source === IMAGES && r.repeat === repeat);
    const mine = runs.find((r) => r.source === source && r.repeat === repeat);
    if (base && mine && mine.trainSeconds > 0) out.push(base.trainSeconds / mine.trainSeconds);
  }
  return out;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Summarize every run into one row per source, in the order `sources` gives (sources with no run
 * are left out). Each figure is the median over repeats, with its spread.
 */
export function summarize(runs: readonly RunMeasurement[], sources: readonly string[]): SourceResult[] {
  const hasImages = runs.some((r) => r.source === IMAGES);
  const results: SourceResult[] = [];
  for (const source of sources) {
    const mine = runs.filter((r) => r.source === source).sort((a, b) => a.repeat - b.repeat);
    if (mine.length === 0) continue;
    const spread: Partial<Record<Metric, Spread>> = {};
    const take = (metric: Metric, values: Array<number | null>): number | null => {
      const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
      if (present.length === 0) return null;
      spread[metric] = spreadOf(present);
      return spread[metric].median;
    };
    const bytesOnDisk = take('bytesOnDisk', mine.map((r) => r.bytesOnDisk)) ?? 0;
    const records = mine[0]!.records;
    const epochSeconds = take('epochSeconds', mine.map((r) => (r.epochSeconds.length ? mean(r.epochSeconds) : null)));
    const trainSeconds = take('trainSeconds', mine.map((r) => r.trainSeconds)) ?? 0;
    const secondsPerEpoch = take('secondsPerEpoch', mine.map((r) => (r.epochSeconds.length ? r.trainSeconds / r.epochSeconds.length : null)));
    const preprocessSeconds = take('preprocessSeconds', mine.map((r) => r.preprocessSeconds));
    const speedups = hasImages ? speedupsPerRepeat(runs, source) : [];
    const resident = mine.map((r) => r.residentBeforeRead).filter((v): v is number => v !== null);
    const last = mine[mine.length - 1]!;
    results.push({
      source,
      bytesOnDisk,
      bytesPerRecord: records > 0 ? bytesOnDisk / records : 0,
      records,
      writeImagesPerSecond: take('writeImagesPerSecond', mine.map((r) => r.writeImagesPerSecond)),
      readImagesPerSecond: take('readImagesPerSecond', mine.map((r) => r.readImagesPerSecond)) ?? 0,
      readFloatImagesPerSecond: take('readFloatImagesPerSecond', mine.map((r) => r.readFloatImagesPerSecond)) ?? 0,
      randomReadImagesPerSecond: take('randomReadImagesPerSecond', mine.map((r) => r.randomReadImagesPerSecond)) ?? 0,
      preprocessSeconds,
      trainSeconds,
      epochSeconds: epochSeconds ?? 0,
      secondsPerEpoch: secondsPerEpoch ?? 0,
      speedupVsImages: take('speedupVsImages', speedups),
      endToEndSeconds: (preprocessSeconds ?? 0) + trainSeconds,
      spread,
      residentBeforeRead: resident.length ? median(resident) : null,
      valAccuracy: last.valAccuracy,
      valKappa: last.valKappa,
    });
  }
  return results;
}
