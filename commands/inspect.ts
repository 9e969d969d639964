import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlags } from './_base/oclif-flags.js';
import { flagValues } from '../src/cli/flag-spec.js';
import { INSPECT_FLAGS } from '../src/cli/inspect-flags.js';
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
  static override flags = oclifFlags(INSPECT_FLAGS);

  public async run(): Promise<InspectOutput> {
    const { args, flags } = await this.parse(Inspect);
    const f = flagValues(INSPECT_FLAGS, flags);
    const r = await (await import('../formats/verify.js')).inspectDataset(args.dataset);
    this.log(`dataset  ${r.dataset}`);
    this.log(`format   ${r.format} (${r.shards} shard${r.shards === 1 ? '' : 's'})`);
    this.log(`tensor   ${r.dtype} [${r.shape.join(', ')}]`);
    this.log(`records  ${r.records} (train ${r.splits.train}, val ${r.splits.val})`);
    this.log(`grades   ${Object.entries(r.labels).map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    if (f.sheet === undefined) return r;
    this.onStop('stopping; no sheet is written');
    const { writeContactSheet } = await import('../src/inspect/contact-sheet.js');
    const sheet = await writeContactSheet(args.dataset, {
      out: f.sheet, perGrade: f.perGrade, split: f.split, seed: f.seed, signal: this.signal,
      ...(f.ids === undefined ? {} : { ids: f.ids.split(',').map((s) => s.trim()).filter(Boolean) }),
    });
    this.log(`sheet    ${sheet.file} (${sheet.tiles} tile${sheet.tiles === 1 ? '' : 's'}: ${sheet.grades.map((g) => `grade ${g.grade} ${g.shown}`).join(', ')})`);
    return { ...r, sheet };
  }
}
