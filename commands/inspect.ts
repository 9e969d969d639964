import { Args, Flags } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { InspectResult } from '../formats/verify.js';
import type { SheetResult } from '../src/inspect/contact-sheet.js';

export type InspectOutput = InspectResult & { sheet?: SheetResult };

export default class Inspect extends RetinaCommand<InspectOutput> {
  static override summary = 'Print a dataset\'s format, tensor shape and dtype, record count, and counts per split and grade; --sheet draws a contact sheet of its records.';
  static override examples = [
    '<%= config.bin %> inspect ./retina-data/lmdb',
    '<%= config.bin %> inspect ./retina-data/raw --json',
    '<%= config.bin %> inspect ./retina-data/lmdb --sheet sheet.html --per-grade 12',
    '<%= config.bin %> inspect ./retina-data/lmdb --sheet sheet.png --ids 10_left,13_right',
  ];
  static override args = { dataset: Args.string({ required: true, description: 'Dataset folder (holds shards/ and manifest.json).' }) };
  static override flags = {
    sheet: Flags.string({ summary: 'Write a contact sheet of stored records to this file (.png, .jpeg or .html), read back through the format readers with checksums verified.' }),
    'per-grade': Flags.integer({ summary: 'Tiles per grade in the sheet.', default: 8, min: 1 }),
    split: Flags.option({ summary: 'Which records the sheet draws from.', options: ['train', 'val', 'all'] as const, default: 'all' as const })(),
    ids: Flags.string({ summary: 'Show exactly these records (comma-separated ids) in their grade rows; --per-grade and --split do not apply.' }),
    seed: Flags.integer({ summary: 'Which records are drawn when a grade has more than --per-grade.', default: 0 }),
  };

  public async run(): Promise<InspectOutput> {
    const { args, flags } = await this.parse(Inspect);
    const r = await (await import('../formats/verify.js')).inspectDataset(args.dataset);
    this.log(`dataset  ${r.dataset}`);
    this.log(`format   ${r.format} (${r.shards} shard${r.shards === 1 ? '' : 's'})`);
    this.log(`tensor   ${r.dtype} [${r.shape.join(', ')}]`);
    this.log(`records  ${r.records} (train ${r.splits.train}, val ${r.splits.val})`);
    this.log(`grades   ${Object.entries(r.labels).map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    if (flags.sheet === undefined) return r;
    const { writeContactSheet } = await import('../src/inspect/contact-sheet.js');
    const sheet = await writeContactSheet(args.dataset, {
      out: flags.sheet, perGrade: flags['per-grade'], split: flags.split, seed: flags.seed,
      ...(flags.ids === undefined ? {} : { ids: flags.ids.split(',').map((s) => s.trim()).filter(Boolean) }),
    });
    this.log(`sheet    ${sheet.file} (${sheet.tiles} tile${sheet.tiles === 1 ? '' : 's'}: ${sheet.grades.map((g) => `grade ${g.grade} ${g.shown}`).join(', ')})`);
    return { ...r, sheet };
  }
}
