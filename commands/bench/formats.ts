import { Flags, type Interfaces } from '@oclif/core';
import { RetinaCommand, type RetinaFlags } from '../_base/retina-command.js';
import { RetinaError } from '../../src/core/errors.js';
import { oclifFlag, type OptionFlag } from '../_base/oclif-flags.js';
import { PREPROCESS_FLAGS } from '../../src/cli/preprocess-flags.js';
import { renderTable } from '../../src/bench/table.js';
import { publishedLines } from '../../src/bench/report.js';
import { DEFAULTS, PRESET_NAMES } from '../../src/bench/options.js';
import type { BenchReport } from '../../src/bench/bench-types.js';
import type { TorchBenchReport } from '../../src/bench/torch-report.js';

export default class BenchFormats extends RetinaCommand<BenchReport | TorchBenchReport> {
  static override summary = 'Compare training from each storage format with decoding the images every epoch.';
  static override description = 'With no arguments: generates a synthetic Kaggle-layout set, then for every repeat preprocesses it into each format, measures bytes on disk, sequential uint8 and float reads and random reads, and trains from each format and from the images. Writes report.json, report.md, chart.svg and chart.html to --out and prints a table.';
  static override examples = [
    '<%= config.bin %> bench formats',
    '<%= config.bin %> bench formats --formats raw,lmdb --repeat 1 --epochs 1 --count 40',
    '<%= config.bin %> bench formats --preset seed-exp3 --out ./exp3',
    '<%= config.bin %> bench formats --images ./train --labels ./trainLabels.csv --count 500 --json',
    '<%= config.bin %> bench formats --consumer torch --formats raw,lmdb --count 96',
  ];

  static override flags = {
    images: Flags.directory({ summary: 'Folder of real images (with --labels). [default: a synthetic set]' }),
    labels: Flags.file({ summary: 'Labels CSV of --images.' }),
    count: Flags.integer({ min: 4, summary: `Images to use. [default: ${DEFAULTS.count}; with --images, all]` }),
    formats: Flags.string({ summary: 'Comma-separated formats to compare. [default: every registered format]' }),
    model: Flags.option({ options: ['small-cnn', 'inception-v3'] as const, summary: `Model to train. [default: ${DEFAULTS.model}]` })(),
    epochs: Flags.integer({ min: 1, summary: `Training epochs. [default: ${DEFAULTS.epochs}]` }),
    'batch-size': Flags.integer({ min: 1, summary: `Batch size of training and of the batched reads. [default: ${DEFAULTS.batchSize}]` }),
    repeat: Flags.integer({ min: 1, summary: `Repeats; each figure is the median. [default: ${DEFAULTS.repeat}]` }),
    size: Flags.integer({ min: 16, max: 4096, summary: `Side of the square tensors. [default: ${DEFAULTS.size} for small-cnn, 299 for inception-v3]` }),
    'val-fraction': oclifFlag('val-fraction', { ...PREPROCESS_FLAGS['val-fraction'], default: undefined, summary: 'Share of patients in the validation split. [default: 0.1]' }) as OptionFlag<number | undefined>,
    seed: Flags.integer({ summary: `Seed of the synthetic images, the split and training. [default: ${DEFAULTS.seed}]` }),
    preset: Flags.option({ options: PRESET_NAMES, summary: "seed-exp3: the seed's Experiment 3 (200 images, 15 epochs, inception-v3 frozen, batch 32, 2 repeats), printed beside the seed's figures." })(),
    'cache-features': Flags.boolean({ allowNo: true, summary: 'Frozen-backbone feature cache: on reads each source once per training instead of every epoch. [default: off; on with the preset]' }),
    cold: Flags.boolean({ default: false, summary: 'Drop the page cache before each read and training (needs root; Linux).' }),
    out: Flags.directory({ summary: 'Report folder. [default: ./retina-bench/<UTC time>]' }),
    'keep-data': Flags.boolean({ default: false, summary: 'Keep the images, datasets and training runs under OUT/work-XXXXXX.' }),
    threads: Flags.integer({ min: 1, summary: 'CPUs for preprocessing and feature extraction. [default: usable CPUs]' }),
    limit: oclifFlag('limit', { ...PREPROCESS_FLAGS.limit, summary: 'With --images: only the first N data rows of --labels (as retina preprocess --limit).' }) as OptionFlag<number | undefined>,
    'skip-invalid': oclifFlag('skip-invalid', { ...PREPROCESS_FLAGS['skip-invalid'], summary: 'With --images: go on without invalid rows (e.g. no image), listing them in OUT/rejects.csv (as retina preprocess).' }) as Interfaces.BooleanFlag<boolean>,
    wide: Flags.boolean({ default: false, summary: 'Print every column with min–max ranges (as report.md); default: the deciding columns, medians, 80 columns wide.' }),
    consumer: Flags.option({ options: ['retina', 'torch'] as const, default: 'retina' as const, summary: "Who reads the datasets. torch: a PyTorch DataLoader per format into float batches beside the seed's torch.save-per-image and PIL paths, and an epoch of the seed model (torch) from each. [defaults with torch: 96 images at 299 px, inception-v3, 1 epoch]" })(),
    python: Flags.string({ env: 'RETINA_PYTHON', summary: 'Python interpreter with torch for --consumer torch. [default: /usr/bin/python3]' }),
  };

  public async run(): Promise<BenchReport | TorchBenchReport> {
    const { flags } = await this.parse(BenchFormats);
    if (flags.consumer === 'torch') return this.runTorch(flags);
    // First signal: stop after the running step (a training cannot be cut short) and clean up;
    // a second one quits at once, leaving OUT/work-XXXXXX behind.
    this.onStop('stopping after the current step');
    const { runFormatsStudy } = await import('../../src/bench/study.js');
    const report = await runFormatsStudy({
      images: flags.images, labels: flags.labels, count: flags.count,
      formats: flags.formats?.split(',').map((s) => s.trim()).filter(Boolean),
      model: flags.model, epochs: flags.epochs, batchSize: flags['batch-size'], repeat: flags.repeat, size: flags.size,
      seed: flags.seed, valFraction: flags['val-fraction'], preset: flags.preset, cacheFeatures: flags['cache-features'], cold: flags.cold,
      out: flags.out, keepData: flags['keep-data'], threads: flags.threads, limit: flags.limit, skipInvalid: flags['skip-invalid'],
      logger: this.logger, progress: this.progress ? { write: (s) => process.stderr.write(s), isTTY: Boolean(process.stderr.isTTY) } : undefined,
      signal: this.signal,
    });
    if (!this.jsonEnabled()) {
      this.log(renderTable(report.results, { wide: flags.wide }));
      if (!flags.wide) this.log('(--wide: every column, with min–max over repeats; all of it is in report.md)');
      for (const line of publishedLines(report)) this.log(line);
      this.log(`${report.cache.statement}\nReport: ${report.outputs?.reportMd}\nChart:  ${report.outputs?.chartHtml}${report.recordsSheet ? `\nSheet:  ${report.recordsSheet.file} (records trained on)` : ''}`);
    }
    return report;
  }

  private async runTorch(flags: RetinaFlags<typeof BenchFormats>): Promise<TorchBenchReport> {
    for (const f of ['repeat', 'preset', 'cache-features', 'cold'] as const) {
      if (flags[f] !== undefined && flags[f] !== false) throw new RetinaError('BAD_ARGUMENT', `--${f} applies to --consumer retina only`, { hint: `Drop --${f}.` });
    }
    this.onStop('stopping the study');
    const { runTorchConsumerStudy } = await import('../../src/bench/torch-consumer.js');
    const { renderTorchTable } = await import('../../src/bench/torch-report.js');
    const report = await runTorchConsumerStudy({
      images: flags.images, labels: flags.labels, count: flags.count, formats: flags.formats?.split(',').map((s) => s.trim()).filter(Boolean),
      model: flags.model, epochs: flags.epochs, batchSize: flags['batch-size'], size: flags.size, seed: flags.seed, valFraction: flags['val-fraction'],
      out: flags.out, keepData: flags['keep-data'], threads: flags.threads, limit: flags.limit, skipInvalid: flags['skip-invalid'], python: flags.python, logger: this.logger, signal: this.signal,
    });
    if (!this.jsonEnabled()) this.log(`${renderTorchTable(report)}Report: ${report.outputs?.reportMd}\nChart:  ${report.outputs?.chartHtml}`);
    return report;
  }
}
