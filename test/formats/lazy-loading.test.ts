import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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

/** Every command module under dist/commands (what oclif imports for `retina --help`). */
function commandModules(): string[] {
  return readdirSync(join(ROOT, 'dist', 'commands'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') && !f.split('/').some((part) => part.startsWith('_')))
    .map((f) => `commands/${f}`);
}

// `retina --help` imports every command class: commands import their library (sharp, lmdb,
// tfjs, piscina) only when they run, so help and start-up stay fast and load no native code.
describe.runIf(process.platform === 'linux')('lazy loading', () => {
  it('the registry and every command class load no native module', () => {
    const modules = commandModules();
    expect(modules).toEqual(expect.arrayContaining(['commands/preprocess.js', 'commands/train.js', 'commands/bench/formats.js', 'commands/fixtures.js']));
    expect(nativeAfterImport(['formats/format-registry.js', ...modules])).toEqual([]);
  });

  it('importing a command\'s library does load native code (so the check above can fail)', () => {
    expect(nativeAfterImport(['src/preprocess/run.js']).some((p) => /sharp/.test(p))).toBe(true);
  });

  it('loading the lmdb format does load lmdb (so the check above can fail)', () => {
    const loaded = nativeAfterImport(['formats/format-registry.js'], `await (await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/formats/format-registry.js')).href)})).loadFormat('lmdb');`);
    expect(loaded.some((p) => /lmdb/.test(p))).toBe(true);
  });
});
