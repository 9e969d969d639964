import { describe, expect, it } from 'vitest';
import { camelCase, decimal, flagValues, fraction, renderArgv, resolvePaths, type FlagRecord } from '../../../src/cli/flag-spec.js';
import { PREPROCESS_FLAGS } from '../../../src/cli/preprocess-flags.js';
import { TRAIN_FLAGS } from '../../../src/cli/train-flags.js';
import { preprocessArgv } from '../../../slurm/preprocess-spec.js';
import { trainArgv } from '../../../slurm/render-train.js';

const RECORD = {
  format: { kind: 'string', required: true, summary: 'f' },
  out: { kind: 'string', path: 'directory', summary: 'o' },
  'val-fraction': { kind: 'number', parse: fraction, summary: 'v' },
  'cache-features': { kind: 'boolean', allowNo: true, summary: 'c' },
  force: { kind: 'boolean', summary: 'f' },
  shard: { kind: 'string', slurm: 'skip', summary: 's' },
} as const satisfies FlagRecord;

describe('flag records', () => {
  it('key values by camelCase name', () => {
    expect(camelCase('val-fraction')).toBe('valFraction');
    expect(camelCase('id-column')).toBe('idColumn');
    expect(flagValues(RECORD, { format: 'raw', 'val-fraction': 0.2 })).toEqual({
      format: 'raw', out: undefined, valFraction: 0.2, cacheFeatures: undefined, force: undefined, shard: undefined,
    });
  });

  it('render argv in record order: booleans as --x / --no-x, nothing for undefined or skipped flags', () => {
    expect(renderArgv(RECORD, { format: 'raw', out: '/o', valFraction: 0.25, cacheFeatures: false, force: false, shard: '1/2' }))
      .toEqual(['--format', 'raw', '--out', '/o', '--val-fraction', '0.25', '--no-cache-features']);
    expect(renderArgv(RECORD, { format: 'raw', cacheFeatures: true, force: true })).toEqual(['--format', 'raw', '--cache-features', '--force']);
  });

  it('make path flags absolute and leave the rest', () => {
    expect(resolvePaths(RECORD, { format: 'raw', out: '../o' }, '/w/x')).toEqual({ format: 'raw', out: '/w/o' });
  });

  it('parse decimals and fractions, naming the flag when they are not', () => {
    expect(decimal('1e-4', '--lr')).toBe(1e-4);
    expect(() => decimal('fast', '--lr')).toThrow(/--lr/);
    expect(fraction('0', '--val-fraction')).toBe(0);
    expect(() => fraction('1', '--val-fraction')).toThrow(/\[0, 1\)/);
    expect(() => fraction('', '--val-fraction')).toThrow(/--val-fraction/);
  });

  it('the Slurm renderers pass on every flag of the record but those Slurm sets itself', () => {
    const all = (record: FlagRecord): Record<string, unknown> => Object.fromEntries(Object.entries(record).map(([name, spec]) =>
      [camelCase(name), spec.kind === 'boolean' ? true : spec.kind === 'string' ? (spec.options?.[0] ?? 'x') : 1]));
    const train = trainArgv(all(TRAIN_FLAGS) as never).filter((a) => a.startsWith('--'));
    expect(train).toEqual(Object.keys(TRAIN_FLAGS).map((n) => `--${n}`));
    const pre = preprocessArgv(all(PREPROCESS_FLAGS) as never).filter((a) => a.startsWith('--'));
    expect(pre).toEqual(Object.entries(PREPROCESS_FLAGS).filter(([, s]) => !('slurm' in s)).map(([n]) => `--${n}`));
    expect(pre).not.toContain('--shard');
    expect(pre).not.toContain('--threads');
  });
});
