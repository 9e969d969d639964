/**
 * `retina export --to onnx`: a trained grader (backbone + head) as one .onnx file that any ONNX
 * runtime (onnxruntime in Python, C++, C#, the browser) can run: input [N,H,W,3] float32 NHWC in
 * [-1,1], output [N,5] grade probabilities, with retina's metadata (`retina.input`,
 * `retina.transform`, `retina.grades`, …) in the model's metadata_props. The file is written to a
 * temporary name and renamed, so an existing export is never left half-written.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { RetinaError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { loadGrader, graderFile } from '../train/grader.js';
import { graderMetadata } from '../train/grader-forward.js';
import { buildOnnxModel } from './graph.js';

export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** RUN_DIR, its model/ folder, or a model.json. */
  model: string;
  to: ExportFormat;
  /** Output file; default RUN_DIR/model.onnx (beside model/). */
  out?: string;
  force?: boolean;
}

/** What `retina export --json` prints. */
export interface ExportResult {
  model: string;
  to: ExportFormat;
  file: string;
  bytes: number;
  inputShape: [number, number, number];
  metadata: Record<string, string>;
}

export async function exportModel(opts: ExportOptions): Promise<ExportResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(opts.to)) {
    throw new RetinaError('BAD_ARGUMENT', `Unknown export format "${opts.to}"; known: ${EXPORT_FORMATS.join(', ')}`);
  }
  const jsonFile = graderFile(opts.model);
  const file = resolve(opts.out ?? join(dirname(dirname(jsonFile)), 'model.onnx'));
  if (!opts.force && await stat(file).then(() => true, () => false)) {
    throw new RetinaError('EXISTS', `${file} already exists`, { location: { file }, hint: 'Pass --force to overwrite it, or --out another file.' });
  }
  const grader = await loadGrader(opts.model);
  try {
    const metadata = { ...graderMetadata(grader), 'retina.source': grader.file };
    const bytes = buildOnnxModel(grader.model, { inputName: 'image', outputName: 'probabilities', metadata, docString: 'retina grader: fundus image -> diabetic retinopathy grade probabilities' });
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, bytes);
    return { model: grader.file, to: opts.to, file, bytes: bytes.byteLength, inputShape: grader.inputShape, metadata };
  } finally {
    grader.model.dispose();
  }
}
