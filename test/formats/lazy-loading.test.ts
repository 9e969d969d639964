import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** Native libraries mapped into a fresh Node after importing `modules` (compiled, from dist/). */
function nativeAfterImport(modules: string[], then = ''): string[] {
  const imports = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', m)).href)});`).join('');
  const script = `${imports}${then}const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');`
    + `console.log(JSON.stringify([...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5] ?? '').filter((p) => p.endsWith('.node')))]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as string[];
}

// `retina --help` imports every command class: the dataset commands and the registry must not
// drag in lmdb's (or any) native module until a dataset is actually opened.
describe.runIf(process.platform === 'linux')('lazy loading', () => {
  it('the registry and the verify/inspect/index commands load no native module', () => {
    expect(nativeAfterImport(['formats/registry.js', 'commands/verify.js', 'commands/inspect.js', 'commands/index/index.js'])).toEqual([]);
  });

  it('loading the lmdb format does load lmdb (so the check above can fail)', () => {
    const loaded = nativeAfterImport(['formats/registry.js'], `await (await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/formats/registry.js')).href)})).loadFormat('lmdb');`);
    expect(loaded.some((p) => /lmdb/.test(p))).toBe(true);
  });
});
