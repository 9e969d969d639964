import { Args } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import { oclifFlags } from './_base/oclif-flags.js';
import { flagValues } from '../src/cli/flag-spec.js';
import { PREVIEW_FLAGS } from '../src/cli/preview-flags.js';
// The library is imported in run(): `retina --help` loads every command class and must stay light.
import type { PreviewResult } from '../src/preview/preview.js';

export default class Preview extends RetinaCommand<PreviewResult> {
  static override summary = 'Draw what the transform does to photographs: original, detected circle and crop box, the square, Ben Graham, with the numbers of each stage.';
  static override description = 'Runs the very transform `retina preprocess` and `retina train --source images` use; the panel marked "(stored)" is byte for byte what preprocess stores for the same image and flags.';
  static override examples = [
    '<%= config.bin %> preview train/10_left.jpeg train/13_right.jpeg --out preview.png',
    '<%= config.bin %> preview train/*.jpeg --out preview.jpeg --size 512 --normalize ben-graham --json',
  ];
  static override strict = false;
  static override args = { image: Args.string({ required: true, description: 'Photographs to preview (one row each).' }) };
  static override flags = oclifFlags(PREVIEW_FLAGS);

  public async run(): Promise<PreviewResult> {
    const { argv, flags } = await this.parse(Preview);
    const { writePreview } = await import('../src/preview/preview.js');
    const f = flagValues(PREVIEW_FLAGS, flags);
    const r = await writePreview(argv as string[], { out: f.out, size: f.size, crop: f.crop, normalize: f.normalize });
    for (const i of r.images) {
      const t = i.timings;
      this.log(`${i.image}: ${i.originalWidth}x${i.originalHeight} (EXIF ${i.orientation}), ${i.circle ? `circle r ${i.circle.r.toFixed(1)}` : 'no circle'}, decode ${t.decodeMs.toFixed(1)} ms, detect ${t.detectMs.toFixed(1)} ms, resample ${t.resampleMs.toFixed(1)} ms`);
    }
    this.log(`wrote ${r.file} (${r.images.length} image${r.images.length === 1 ? '' : 's'}${r.width === undefined ? '' : `, ${r.width}x${r.height}`})`);
    return r;
  }
}
