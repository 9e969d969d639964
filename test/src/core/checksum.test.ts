import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexOf, isXxh64Hex, parseXxh64Hex, xxh64File, xxh64Hex, xxh64Of } from '../../../src/core/checksum.js';
import { tempDir } from '../../helpers/cli.js';

describe('checksum', () => {
  it('is xxh64 with seed 0 (reference vectors), as 16 hex digits', () => {
    expect(xxh64Hex(new Uint8Array(0))).toBe('ef46db3751d8e999');
    expect(xxh64Hex(Buffer.from('abc'))).toBe('44bc2cf5ad770999');
    expect(isXxh64Hex(xxh64Hex(Buffer.from('x')))).toBe(true);
    expect(parseXxh64Hex(hexOf(xxh64Of(Buffer.from('abc'))))).toBe(xxh64Of(Buffer.from('abc')));
  });

  it('hashes only the bytes of a view, not its whole buffer', () => {
    const whole = Buffer.from('..abc..');
    expect(xxh64Hex(whole.subarray(2, 5))).toBe('44bc2cf5ad770999');
  });

  it('streams a file in chunks to the same digest', async () => {
    const { dir, cleanup } = await tempDir();
    const data = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 31) & 0xff);
    await writeFile(join(dir, 'f'), data);
    expect(await xxh64File(join(dir, 'f'), 1 << 20)).toEqual({ xxh64: xxh64Hex(data), bytes: data.length });
    await cleanup();
  });
});
