// Reads retina datasets through retina's own TypeScript reader (the compiled dist/), so the Python
// tests can compare every record byte for byte. For each DATASET OUT pair: OUT.bin holds the
// tensor bytes of every record in order, OUT.json their {id, label, split}; with --normalize,
// OUT.float32 holds record 0 through retina's byte->float path (toNetworkInput).
// Modules are found by what they export, not by path, so moving or renaming files in dist/ does not break it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function findModule(dir, fileName, exported) {
  // Any compiled module exporting the function will do (files get renamed); one named fileName first.
  const found = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.js')) {
        const text = readFileSync(path, 'utf8');
        if (text.includes(`export async function ${exported}(`) || text.includes(`export function ${exported}(`)) found.push(path);
      }
    }
  };
  walk(dir);
  return found.find((p) => p.endsWith(`/${fileName}`)) ?? found[0];
}

function load(fileName, exported) {
  const path = findModule(join(root, 'dist'), fileName, exported);
  if (!path) throw new Error(`no ${fileName} exporting ${exported} under ${join(root, 'dist')}: run npm run build`);
  return import(pathToFileURL(path).href);
}

const args = process.argv.slice(2);
const normalize = args[0] === '--normalize' ? (args.shift(), true) : false;
const { openDataset } = await load('dataset.js', 'openDataset');
const { toNetworkInput } = normalize ? await load('bytes-to-float.js', 'toNetworkInput') : {};
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
