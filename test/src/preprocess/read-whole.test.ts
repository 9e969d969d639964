import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWholeFile } from '../../../src/preprocess/read-whole.js';

describe('readWholeFile', () => {
  it('returns exactly the bytes of files of every size, the empty one included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'read-whole-'));
    try {
      for (const n of [0, 1, 1000, 3 * 1024 * 1024 + 7]) {
        const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
        await writeFile(join(dir, `f${n}`), bytes);
        const got = await readWholeFile(join(dir, `f${n}`));
        expect(got.length).toBe(n);
        expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
      }
      await expect(readWholeFile(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
