import { Flags } from '@oclif/core';
import { RetinaCommand } from './_base/retina-command.js';
import type { ExportResult } from '../src/onnx/export.js';

export default class Export extends RetinaCommand<ExportResult> {
  static override summary = 'Export a trained model (backbone + head) to another runtime\'s format: one .onnx file with retina\'s metadata.';
  static override description = 'The .onnx file takes [N,H,W,3] float32 images in [-1,1] (NHWC, pixels x/127.5-1 after retina\'s transform) and outputs [N,5] grade probabilities; metadata_props carry retina.input, retina.transform and retina.grades.';
  static override examples = ['<%= config.bin %> export --model runs/exp3 --to onnx', '<%= config.bin %> export --model runs/exp3 --to onnx --out grader.onnx'];

  static override flags = {
    model: Flags.string({ required: true, summary: 'Run folder (RUN_DIR), its model/ folder, or a model.json.' }),
    to: Flags.option({ options: ['onnx'] as const, required: true, summary: 'Target format.' })(),
    out: Flags.string({ summary: 'Output file [default: RUN_DIR/model.onnx].' }),
    force: Flags.boolean({ default: false, summary: 'Overwrite an existing output file.' }),
  };

  public async run(): Promise<ExportResult> {
    const { flags } = await this.parse(Export);
    const { exportModel } = await import('../src/onnx/export.js');
    const r = await exportModel({ model: flags.model, to: flags.to, out: flags.out, force: flags.force });
    this.logger.info(`export: ${r.file} (${(r.bytes / 2 ** 20).toFixed(1)} MiB, input ${r.inputShape.join('x')}x NHWC float32 in [-1,1], output 5 grade probabilities)`);
    return r;
  }
}
