import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertCanDropCaches, bytesUnder, cacheStatement, parseFincore, residentFraction } from '../../../src/bench/page-cache.js';
import { RetinaError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/cli.js';

describe('page cache handling', () => {
  it('parses fincore JSON, counting page-rounded residency at most the file size', () => {
    expect(parseFincore({ fincore: [{ res: 4096, pages: 1, size: 3, file: 'a' }, { res: 0, pages: 0, size: 1000, file: 'b' }] }))
      .toEqual({ resident: 3, bytes: 1003 });
    expect(() => parseFincore({})).toThrow(/fincore/);
    expect(() => parseFincore({ fincore: [{ res: 'x', size: 1 }] })).toThrow(/numeric/);
  });

  it('probes residency of a folder just written (needs util-linux fincore)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'a.bin'), new Uint8Array(1 << 20).fill(7));
      await writeFile(join(dir, 'b.bin'), new Uint8Array(1 << 16).fill(9));
      expect(await bytesUnder(dir)).toBe((1 << 20) + (1 << 16));
      const f = await residentFraction(dir);
      // Just written, so in the page cache (dirty pages are resident too).
      expect(f).not.toBeNull();
      expect(f!).toBeGreaterThan(0.9);
      expect(f!).toBeLessThanOrEqual(1);
    } finally {
      await cleanup();
    }
  });

  it('explains clearly when caches cannot be dropped', () => {
    try {
      assertCanDropCaches('/nonexistent/drop_caches');
      throw new Error('expected an error');
    } catch (err) {
      expect(err).toBeInstanceOf(RetinaError);
      expect((err as RetinaError).code).toBe('UNSUPPORTED');
      expect((err as RetinaError).message).toMatch(/--cold.*\/nonexistent\/drop_caches.*no such file/);
      expect((err as RetinaError).hint).toMatch(/leave out --cold/);
    }
  });

  it('states what warm and cold mean', () => {
    expect(cacheStatement(false, true)).toMatch(/^warm: .*not dropped.*fincore/);
    expect(cacheStatement(false, false)).toMatch(/fincore not available/);
    expect(cacheStatement(true, true)).toMatch(/^cold: .*drop_caches/);
  });
});
