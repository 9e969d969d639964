#!/usr/bin/env node
// Copies the runtime closure of some npm packages from an installed node_modules into a bundle,
// pruned to what Node loads on linux-x64: tfjs packages keep only their `main` file (and wasm
// binaries), Dawn keeps only dist/linux-x64, every package drops source maps, typings and docs.
// Usage: node copy-runtime-deps.mjs <projectRoot> <destNodeModules> <package>...
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [root, dest, ...roots] = process.argv.slice(2);
if (!root || !dest || roots.length === 0) {
  console.error('usage: copy-runtime-deps.mjs <projectRoot> <destNodeModules> <package>...');
  process.exit(2);
}

/** Node's resolution: the nearest node_modules/<name> walking up from `fromDir`. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

const seen = new Map(); // package dir -> package.json
const queue = roots.map((name) => ({ name, from: root, optional: false }));
while (queue.length > 0) {
  const { name, from, optional } = queue.shift();
  if (name.startsWith('@types/')) continue;
  const dir = resolvePackage(name, from);
  if (dir === undefined) {
    if (optional) continue; // another platform's prebuilt, or an optional native helper not installed
    console.error(`missing package ${name} (needed from ${relative(root, from) || '.'}); run npm ci first`);
    process.exit(3);
  }
  if (seen.has(dir)) continue;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  seen.set(dir, pkg);
  for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false });
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true });
  // webgpu-types and the like are types only; peer deps are satisfied by the roots.
}

const DROP = /(\.map|\.d\.ts|\.d\.cts|\.d\.mts|\.md|\.markdown|LICENSE\.txt~)$/i;
const DROP_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', '.github', 'benchmark', 'benchmarks']);

function copyFiltered(src, to, keep) {
  cpSync(src, to, {
    recursive: true,
    filter: (p) => {
      const rel = relative(src, p);
      if (rel === '') return true;
      const base = p.slice(p.lastIndexOf('/') + 1);
      const isDir = statSync(p).isDirectory();
      if (rel.split('/')[0] === 'node_modules') return false; // nested deps are copied on their own
      if (isDir) return !DROP_DIRS.has(base) && (keep === undefined || keep(rel, true));
      if (DROP.test(base)) return false;
      return keep === undefined || keep(rel, false);
    },
  });
}

let bytes = 0;
for (const [dir, pkg] of seen) {
  const to = join(dest, relative(join(root, 'node_modules'), dir));
  mkdirSync(to, { recursive: true });
  let keep;
  if (pkg.name.startsWith('@tensorflow/')) {
    const main = (pkg.main ?? 'index.js').replace(/^\.\//, '');
    keep = (rel, isDir) => isDir ? main.startsWith(`${rel}/`) : rel === 'package.json' || rel === main || (/^dist\/[^/]+\.wasm$/.test(rel));
  } else if (pkg.name === 'webgpu') {
    keep = (rel, isDir) => isDir ? rel === 'dist' || rel.startsWith('dist/linux-x64') : rel === 'package.json' || rel === 'index.js' || rel.startsWith('dist/linux-x64/');
  } else if (pkg.name === 'onnxruntime-node') {
    // 288 MB for every platform; Linux x64 is libonnxruntime.so.1 (45 MB, CPU + WebGPU EPs) and the
    // binding, plus the CUDA EP's libraries when its install script fetched them.
    keep = (rel, isDir) => isDir ? ['bin', 'bin/napi-v6', 'bin/napi-v6/linux', 'dist'].includes(rel) || rel.startsWith('bin/napi-v6/linux/x64') || rel.startsWith('dist/')
      : rel === 'package.json' || rel.startsWith('dist/') || rel.startsWith('bin/napi-v6/linux/x64/');
  } else if (pkg.name === 'lmdb') {
    keep = (rel, isDir) => !(isDir && (rel === 'dependencies' || rel === 'src' || rel === 'prebuilds'));
  }
  copyFiltered(dir, to, keep);
  const main = pkg.name.startsWith('@tensorflow/') ? join(to, (pkg.main ?? 'index.js')) : undefined;
  if (main !== undefined && !existsSync(main)) {
    console.error(`pruning lost ${pkg.name}'s main file ${pkg.main}`);
    process.exit(4);
  }
}
function du(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((a, e) => a + du(join(p, e)), 0);
}
bytes = du(dest);
console.error(`copied ${seen.size} packages, ${(bytes / 1e6).toFixed(1)} MB`);
