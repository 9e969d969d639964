import { describe, expect, it } from 'vitest';
import { DEFAULTS, PRESETS, resolveStudy } from '../../../src/bench/options.js';
import { RetinaError } from '../../../src/core/errors.js';

const ALL = ['raw', 'msgpack', 'lmdb', 'tfjs'];

function expectBadArgument(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RetinaError);
    expect((err as RetinaError).code).toBe('BAD_ARGUMENT');
    expect((err as RetinaError).message).toMatch(text);
    return;
  }
  throw new Error('expected a BAD_ARGUMENT error');
}

describe('resolveStudy', () => {
  it('uses the defaults and every registered format with no arguments', () => {
    const { config, published } = resolveStudy({}, ALL);
    expect(config).toMatchObject({ data: 'synthetic', count: 200, formats: ALL, model: 'small-cnn', epochs: 3, batchSize: 32, repeat: 3, size: 128, preset: null, cold: false, cacheFeatures: false });
    expect(resolveStudy({ model: 'inception-v3' }, ALL).config.size).toBe(299);
    expect(published).toBeNull();
    expect(DEFAULTS.model).toBe('small-cnn');
  });

  it('applies the seed-exp3 preset, with explicit values winning', () => {
    const { config, published } = resolveStudy({ preset: 'seed-exp3', repeat: 1 }, ALL);
    expect(config).toMatchObject({ preset: 'seed-exp3', count: 200, epochs: 15, model: 'inception-v3', batchSize: 32, size: 299, repeat: 1, cacheFeatures: true });
    expect(config.valFraction).toBe(0.1);
    expect(published).toEqual(PRESETS['seed-exp3'].published);
    expect(published?.serializedSeconds).toEqual([1054, 1154]);
    expect(published?.onTheFlySeconds).toEqual([1271, 1297]);
  });

  it('uses every labelled image of user data unless --count is given', () => {
    expect(resolveStudy({ images: '/x', labels: '/x.csv' }, ALL).config).toMatchObject({ data: 'user', count: 0 });
    expect(resolveStudy({ images: '/x', labels: '/x.csv', count: 10 }, ALL).config.count).toBe(10);
  });

  it('rejects bad arguments with the flag named', () => {
    expectBadArgument(() => resolveStudy({ preset: 'seed-exp9' }, ALL), /--preset/);
    expectBadArgument(() => resolveStudy({ formats: ['raw', 'parquet'] }, ALL), /--formats.*parquet/);
    expectBadArgument(() => resolveStudy({ formats: ['raw', 'raw'] }, ALL), /at most once/);
    expectBadArgument(() => resolveStudy({ images: '/x' }, ALL), /--labels/);
    expectBadArgument(() => resolveStudy({ repeat: 0 }, ALL), /--repeat/);
    expectBadArgument(() => resolveStudy({ count: 2 }, ALL), /--count/);
    expectBadArgument(() => resolveStudy({ model: 'inception-v3', size: 64 }, ALL), /299.*inception-v3.*--size/);
    expectBadArgument(() => resolveStudy({}, []), /registered format/);
    expectBadArgument(() => resolveStudy({ valFraction: 0 }, ALL), /--val-fraction/);
  });
});
