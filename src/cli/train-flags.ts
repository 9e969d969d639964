import { MODEL_NAMES } from '../train/models/names.js';
import { decimal, fraction, type FlagRecord } from './flag-spec.js';

/** Which tfjs backend runs the network (train, evaluate, predict). */
export const BACKEND_FLAG = {
  kind: 'string',
  default: 'auto',
  summary:
    'Backend: auto, tensorflow (tfjs-node[-gpu] if installed), webgpu (a GPU via Vulkan), onnxruntime (frozen forward passes in ONNX Runtime), wasm or cpu.',
  description:
    'auto picks tensorflow when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node is installed, else webgpu when a GPU adapter is found, else onnxruntime when onnxruntime-node loads (frozen forward passes in ONNX Runtime, the head on wasm), else wasm (SIMD), else cpu. --log-level debug says why each one was skipped.',
} as const;

/**
 * `retina train` flags, declared once (see flag-spec.ts): `retina slurm train` offers the same
 * flags with the same checks and passes them on to the job, in this order; `flagValues` gives
 * `train()` its options under the camelCase names.
 */
export const TRAIN_FLAGS = {
  source: { kind: 'string', required: true, summary: 'A format (raw, msgpack, lmdb, tfjs) to read a dataset, or images to decode JPEGs every epoch.' },
  data: { kind: 'string', path: 'directory', summary: 'Dataset folder for a format source [default: ./retina-data/<source>].' },
  images: { kind: 'string', path: 'directory', summary: 'Images folder for --source images [default: ./train].' },
  labels: { kind: 'string', path: 'file', summary: 'Labels CSV for --source images [default: ./trainLabels.csv].' },
  model: { kind: 'string', options: MODEL_NAMES, default: 'inception-v3', summary: 'Network.' },
  weights: {
    kind: 'string',
    path: 'file',
    summary:
      "Backbone weights: Keras' InceptionV3 .h5 (the ImageNet file: see `retina weights`) or a tfjs layers model.json [default: random, which learns little frozen].",
  },
  'fine-tune': { kind: 'boolean', default: false, summary: 'Train every layer (default: frozen backbone, new 5-grade head).' },
  epochs: { kind: 'integer', min: 1, default: 15, summary: 'Epochs.' },
  'batch-size': { kind: 'integer', min: 1, default: 32, summary: 'Images per step.' },
  lr: { kind: 'number', parse: decimal, default: 1e-4, summary: 'Adam learning rate.' },
  'micro-batch': {
    kind: 'integer',
    min: 1,
    summary: 'Images per gradient computation when fine-tuning; gradients add up to --batch-size [default: 4 for inception-v3 on wasm, else the batch size].',
  },
  seed: { kind: 'integer', default: 1, summary: 'Seed of the weight init and the per-epoch shuffle.' },
  backend: BACKEND_FLAG,
  out: { kind: 'string', path: 'directory', summary: 'Run folder [default: ./runs/<time>-<model>-<source>].' },
  force: { kind: 'boolean', default: false, summary: 'Overwrite a run folder that holds a finished run.' },
  'cache-features': {
    kind: 'boolean',
    allowNo: true,
    summary: "Compute the frozen backbone's features once and train the head on them [default: on when frozen].",
  },
  'cache-dir': { kind: 'string', path: 'directory', env: 'RETINA_CACHE_DIR', summary: 'Feature cache root [default: ~/.cache/retina].' },
  threads: {
    kind: 'integer',
    min: 1,
    summary:
      "Worker threads for the frozen backbone's forward pass: feature extraction, or every epoch with --no-cache-features (1: in-process) [default: usable CPUs; under Slurm the job's CPUs].",
  },
  'image-size': { kind: 'integer', min: 16, max: 4096, summary: 'Square side for --source images [default: 299, or 64 for small-cnn].' },
  crop: { kind: 'string', options: ['auto', 'none'], default: 'auto', summary: 'Transform for --source images (as retina preprocess).' },
  normalize: { kind: 'string', options: ['none', 'ben-graham'], default: 'none', summary: 'Transform for --source images (as retina preprocess).' },
  'val-fraction': { kind: 'number', parse: fraction, default: 0.1, summary: 'Validation share of patients for --source images (as retina preprocess).' },
  'split-seed': { kind: 'integer', default: 0, summary: 'Split seed for --source images (as retina preprocess --seed).' },
  'id-column': {
    kind: 'string',
    summary: 'Column of image ids for --source images (as retina preprocess). [default: image, id_code, id, image_id or filename]',
  },
  'label-column': { kind: 'string', summary: 'Column of grades 0-4 for --source images (as retina preprocess). [default: level, diagnosis, label or grade]' },
  limit: { kind: 'integer', min: 1, summary: 'For --source images: only the first N data rows of the labels file (as retina preprocess --limit).' },
  'skip-invalid': {
    kind: 'boolean',
    default: false,
    summary: 'For --source images: go on without invalid rows (e.g. no image), listing them in RUN_DIR/rejects.csv (as retina preprocess).',
  },
  engine: {
    kind: 'string',
    options: ['tfjs', 'torch'],
    default: 'tfjs',
    helpGroup: 'ENGINE',
    summary:
      "tfjs: retina's own trainer; torch: PyTorch (python -m retina_data.train, torchvision InceptionV3; --weights takes a torchvision state_dict file).",
  },
  python: {
    kind: 'string',
    env: 'RETINA_PYTHON',
    helpGroup: 'ENGINE',
    summary: 'Python interpreter for --engine torch (with torch and torchvision) [default: /usr/bin/python3].',
  },
  device: { kind: 'string', options: ['auto', 'cpu', 'cuda'], helpGroup: 'ENGINE', summary: 'Device for --engine torch [default: auto: cuda when available].' },
  workers: { kind: 'integer', min: 0, helpGroup: 'ENGINE', summary: 'DataLoader worker processes for --engine torch [default: 0 on CPU, up to 8 on a GPU].' },
} as const satisfies FlagRecord;
