/**
 * Read throughput of every format, on one core, from the page cache: sequential uint8 batches
 * (readInto), sequential float32 batches scaled to [-1, 1] (readInto straight into a
 * WebAssembly converter), random-access uint8, and the ceiling: the same bytes copied out of the
 * page cache with plain positioned reads and no checksum. Each figure is the median of `passes`
 * timed passes after one untimed warm-up pass (which also pulls the files into the page cache).
 *
 *   npx tsx bench/read-formats.ts [--records 2000] [--dir /tmp/retina-bench-read] [--passes 3]
 *                                 [--batch 32] [--formats raw,lmdb,msgpack,tfjs] [--rewrite] [--json]
 *
 * Datasets are kept in --dir and reused by later runs; --rewrite writes them again and reports
 * the write rate.
 *
 * The measuring functions shared with `retina bench formats` live in `src/bench/measure-reads.ts`;
 * this development script adds the memcpy and conversion baselines and the table. It is not part
 * of the build: run it with tsx.
 */
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createFloatConverter, bytesToFloatJs } from '../src/bytes-to-float.js';
import { measureCeiling, measureReads, timed, type Measurement } from '../src/bench/measure-reads.js';
import { createShardWriter, findCompleteShard, shardPath } from '../formats/dataset.js';
import { formatNames } from '../formats/format-registry.js';
import { byteLength, type ShardManifest, type TensorSpec } from '../formats/types.js';

export const BENCH_SPEC: TensorSpec = { dtype: 'uint8', shape: [299, 299, 3] };

/**
 * A plain memory copy of `records` records (from a 256 MiB source, larger than the CPU caches,
 * into the batch buffer): the figure the issue quotes as the ceiling (about 45,000 images/s).
 */
export async function measureMemcpy(recordBytes: number, records: number, opts: { batch?: number; passes?: number } = {}): Promise<Measurement> {
  const batch = opts.batch ?? 32;
  const per = Math.max(1, Math.floor((256 << 20) / recordBytes));
  const src = new Uint8Array(per * recordBytes);
  fillRandom(src, 3);
  const buf = new Uint8Array(batch * recordBytes);
  return timed(records, opts.passes ?? 3, async () => {
    for (let i = 0; i < records; i++) {
      const from = (i % per) * recordBytes;
      buf.set(src.subarray(from, from + recordBytes), (i % batch) * recordBytes);
    }
  });
}

/**
 * The uint8 → float32 [-1, 1] conversion alone, `images` 299x299x3 images per pass, in memory:
 * the plain JS loop (`bytesToFloatJs`) and the WebAssembly SIMD converter.
 */
export async function measureToFloat(images = 300, passes = 3): Promise<{ js: Measurement; simd: Measurement }> {
  const n = byteLength(BENCH_SPEC);
  const norm = createFloatConverter(n);
  fillRandom(norm.input, 7);
  const src = Uint8Array.from(norm.input);
  const dst = new Float32Array(n);
  const js = await timed(images, passes, async () => {
    for (let i = 0; i < images; i++) bytesToFloatJs(src, dst);
  });
  const simd = await timed(images, passes, async () => {
    for (let i = 0; i < images; i++) norm.run(n);
  });
  return { js, simd };
}

/** Fill `out` with cheap pseudo-random bytes (xorshift32): content does not matter to reads. */
function fillRandom(out: Uint8Array, seed: number): void {
  const w = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = x >>> 0;
  }
  for (let i = w.length * 4; i < out.length; i++) out[i] = i & 0xff;
}

/**
 * Write (or, unless `rewrite`, reuse) a one-shard dataset of `records` 299x299x3 uint8 records in
 * `format`. `seconds` is the time the writing took (0 when reused), close() included: fsync,
 * checksums of every file and the rename.
 */
export async function writeBenchDataset(dir: string, format: string, records: number, rewrite = false): Promise<ShardManifest & { seconds: number }> {
  const params = { bench: 'read-formats', records };
  const existing = rewrite ? undefined : await findCompleteShard(dir, 0, 1, { verify: false, expect: { format, spec: BENCH_SPEC, params } });
  if (existing) return { ...existing, seconds: 0 };
  const started = process.hrtime.bigint();
  const w = await createShardWriter(dir, format, { index: 0, count: 1, spec: BENCH_SPEC, params });
  const t = new Uint8Array(byteLength(BENCH_SPEC) + 3);
  const tensor = t.subarray(0, byteLength(BENCH_SPEC));
  try {
    for (let i = 0; i < records; i++) {
      fillRandom(t, i + 1);
      await w.append({ id: `bench_${i}`, label: i % 5, split: i % 10 === 0 ? 'val' : 'train' }, tensor);
    }
    const m = await w.close();
    return { ...m, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (err) {
    await w.abort();
    throw err;
  }
}

export interface ReadBenchRow {
  format: string;
  uint8: Measurement;
  float32: Measurement;
  random: Measurement;
  /** Write rate (images/s, wall clock, one pass) when the dataset was (re)written in this run. */
  write?: number;
  /** Bytes of the shard's files. */
  bytesOnDisk: number;
  /** uint8 images/s divided by the ceiling's (wall-clock medians). */
  ratioToCeiling: number;
  /** The same ratio with CPU-time rates. */
  cpuRatioToCeiling: number;
}

export interface ReadBenchResult {
  records: number;
  recordBytes: number;
  batch: number;
  passes: number;
  ceiling: Measurement;
  ceilingWithChecksum: Measurement;
  /** In-memory copy of the same bytes (no page cache, no syscall). */
  memcpy: Measurement;
  /** The conversion alone, in memory. */
  normalize: { js: Measurement; simd: Measurement };
  rows: ReadBenchRow[];
  /** Peak resident memory of the whole run (MiB): reading stays flat whatever the dataset size. */
  peakRssMiB: number;
  machine: string;
  date: string;
}

/** Write the datasets if needed and measure every format plus the ceiling. */
export async function runReadBench(opts: { dir: string; records?: number; passes?: number; batch?: number; formats?: string[]; rewrite?: boolean; log?: (line: string) => void }): Promise<ReadBenchResult> {
  const records = opts.records ?? 2000;
  const passes = opts.passes ?? 3;
  const batch = opts.batch ?? 32;
  const log = opts.log ?? (() => undefined);
  const formats = opts.formats ?? formatNames();
  await mkdir(opts.dir, { recursive: true });
  const rb = byteLength(BENCH_SPEC);
  const written = new Map<string, ShardManifest & { seconds: number }>();
  for (const f of formats) {
    log(`writing ${records} records in ${f}${opts.rewrite ? '' : ' (reused when present)'}…`);
    const m = await writeBenchDataset(join(opts.dir, f), f, records, opts.rewrite);
    if (m.seconds) log(`  ${(records / m.seconds).toFixed(0)} img/s written`);
    written.set(f, m);
  }
  // The ceiling reads a file of the same size: the raw shard's data.npy when there is one.
  const rawDir = join(opts.dir, 'raw');
  await writeBenchDataset(rawDir, 'raw', records);
  const npy = join(shardPath(rawDir, 0, 1), 'data.npy');
  const ceiling = await measureCeiling(npy, rb, records, { batch, passes, offset: 128 });
  const ceilingSum = await measureCeiling(npy, rb, records, { batch, passes, offset: 128, checksum: true });
  log(`ceiling ${show(ceiling)}; with xxh64 ${show(ceilingSum)}`);
  const memcpy = await measureMemcpy(rb, records, { batch, passes });
  log(`memcpy ${show(memcpy)}`);
  const normalize = await measureToFloat(300, passes);
  log(`normalize alone: JS ${show(normalize.js)}, SIMD ${show(normalize.simd)}`);
  const rows: ReadBenchRow[] = [];
  for (const f of formats) {
    const ds = join(opts.dir, f);
    const u8 = await measureReads(ds, { mode: 'uint8', batch, passes });
    const fl = await measureReads(ds, { mode: 'float32', batch, passes });
    const rnd = await measureReads(ds, { mode: 'random', batch, passes });
    const w = written.get(f)!;
    const row: ReadBenchRow = {
      format: f, uint8: u8, float32: fl, random: rnd,
      ...(w.seconds ? { write: records / w.seconds } : {}),
      bytesOnDisk: w.files.reduce((a, x) => a + x.bytes, 0),
      ratioToCeiling: u8.imagesPerSecond / ceiling.imagesPerSecond,
      cpuRatioToCeiling: u8.cpuImagesPerSecond / ceiling.cpuImagesPerSecond,
    };
    log(`${f}: uint8 ${show(u8)}, float32 ${show(fl)}, random ${show(rnd)} (${(row.ratioToCeiling * 100).toFixed(0)}% of ceiling)`);
    rows.push(row);
  }
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  return {
    records, recordBytes: rb, batch, passes,
    ceiling, ceilingWithChecksum: ceilingSum, memcpy, normalize, rows,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    machine: `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    date: new Date().toISOString(),
  };
}

const show = (m: Measurement) => `${m.imagesPerSecond.toFixed(0)} img/s (best ${m.bestImagesPerSecond.toFixed(0)}, cpu ${m.cpuImagesPerSecond.toFixed(0)})`;

/**
 * The result as a Markdown table: each cell is the wall-clock median, then in brackets the best
 * pass and the CPU-time rate (records per CPU-second of this process).
 */
export function formatTable(r: ReadBenchResult): string {
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  const cell = (m: Measurement) => `${f(m.imagesPerSecond)} (${f(m.bestImagesPerSecond)} / ${f(m.cpuImagesPerSecond)})`;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const lines = [
    '| format | uint8 seq | float32 [-1,1] seq | uint8 random | uint8 / ceiling (wall, cpu) |',
    '|---|---:|---:|---:|---:|',
    `| ceiling: pread, no checksum | ${cell(r.ceiling)} | | | 100% |`,
    `| memcpy of the same bytes (in memory) | ${cell(r.memcpy)} | | | ${pct(r.memcpy.imagesPerSecond / r.ceiling.imagesPerSecond)}, ${pct(r.memcpy.cpuImagesPerSecond / r.ceiling.cpuImagesPerSecond)} |`,
    `| ceiling + xxh64 | ${cell(r.ceilingWithChecksum)} | | | ${pct(r.ceilingWithChecksum.imagesPerSecond / r.ceiling.imagesPerSecond)}, ${pct(r.ceilingWithChecksum.cpuImagesPerSecond / r.ceiling.cpuImagesPerSecond)} |`,
    ...r.rows.map((x) => `| ${x.format} | ${cell(x.uint8)} | ${cell(x.float32)} | ${cell(x.random)} | ${pct(x.ratioToCeiling)}, ${pct(x.cpuRatioToCeiling)} |`),
    `| conversion alone, JS loop | | ${cell(r.normalize.js)} | | |`,
    `| conversion alone, WebAssembly SIMD | | ${cell(r.normalize.simd)} | | |`,
  ];
  const sizes = r.rows.map((x) => `| ${x.format} | ${x.write === undefined ? '(reused)' : f(x.write)} | ${(x.bytesOnDisk / 2 ** 20).toFixed(0)} MiB |`);
  return [...lines, '', '| format | write (img/s, one pass) | shard size |', '|---|---:|---:|', ...sizes].join('\n');
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runReadBench({
    dir: flag('dir') ?? '/tmp/retina-bench-read',
    records: Number(flag('records') ?? 2000),
    passes: Number(flag('passes') ?? 3),
    batch: Number(flag('batch') ?? 32),
    ...(flag('formats') ? { formats: flag('formats')!.split(',') } : {}),
    rewrite: process.argv.includes('--rewrite'),
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(result, null, 1) + '\n' : `${formatTable(result)}\n\n${result.machine}; ${result.date}; ${result.records} records of ${result.recordBytes} bytes, batch ${result.batch}, cells: median img/s (best pass / per CPU-second), median of ${result.passes} passes; peak RSS ${result.peakRssMiB} MiB\n`);
}
