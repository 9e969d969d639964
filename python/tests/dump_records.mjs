// Reads retina datasets through retina's own TypeScript reader (the compiled dist/), so the Python
// tests can compare every record byte for byte. For each DATASET OUT pair: OUT.bin holds the
// tensor bytes of every record in order, OUT.json their {id, label, split}; with --normalize,
// OUT.float32 holds record 0 through retina's byte->float path (toNetworkInput).
// Modules are found by what they export, not by path, so moving files within dist/ does not break it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function findModule(dir, fileName, exported) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      const found = findModule(path, fileName, exported);
      if (found) return found;
    } else if (name === fileName && readFileSync(path, 'utf8').includes(`export async function ${exported}(`)) {
      return path;
    } else if (name === fileName && readFileSync(path, 'utf8').includes(`export function ${exported}(`)) {
      return path;
    }
  }
  return undefined;
}

function load(fileName, exported) {
  const path = findModule(join(root, 'dist'), fileName, exported);
  if (!path) throw new Error(`no ${fileName} exporting ${exported} under ${join(root, 'dist')}: run npm run build`);
  return import(pathToFileURL(path).href);
}

const args = process.argv.slice(2);
const normalize = args[0] === '--normalize' ? (args.shift(), true) : false;
const { openDataset } = await load('dataset.js', 'openDataset');
const { toNetworkInput } = normalize ? await load('normalize.js', 'toNetworkInput') : {};
for (let k = 0; k < args.length; k += 2) {
  const [dataset, out] = [args[k], args[k + 1]];
  const reader = await openDataset(dataset);
  try {
    const meta = [];
    const chunks = [];
    for (let i = 0; i < reader.count; i++) {
      const r = await reader.get(i);
      meta.push({ id: r.id, label: r.label, split: r.split });
      chunks.push(Buffer.from(r.tensor)); // copied: the record is borrowed
    }
    writeFileSync(`${out}.bin`, Buffer.concat(chunks));
    writeFileSync(`${out}.json`, JSON.stringify({ dtype: reader.manifest.spec.dtype, shape: reader.manifest.spec.shape, records: meta }));
    if (normalize && chunks.length) {
      const floats = new Float32Array(chunks[0].byteLength / { uint8: 1, float16: 2, float32: 4 }[reader.manifest.spec.dtype]);
      toNetworkInput(new Uint8Array(chunks[0]), reader.manifest.spec.dtype, floats, 0);
      writeFileSync(`${out}.float32`, Buffer.from(floats.buffer));
    }
  } finally {
    await reader.close();
  }
}
