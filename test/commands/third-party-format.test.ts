import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createShardWriter } from '../../formats/dataset.js';
import { registerFormat } from '../../formats/format-registry.js';
import type { VerifyResult } from '../../formats/verify.js';
import { parseJson, ROOT, runCli, tempDir } from '../helpers/cli.js';
import { recordMeta, tensorBytes } from '../helpers/tensors.js';

describe('a third-party format preloaded with NODE_OPTIONS --import', () => {
  it('is used by the CLI; without it the CLI names the unknown format', async () => {
    registerFormat('files', async () => (await import('../formats/files-format.js')).filesFormat);
    const { dir, cleanup } = await tempDir();
    try {
      const spec = { dtype: 'uint8' as const, shape: [4, 4, 3] };
      const w = await createShardWriter(dir, 'files', { index: 0, count: 1, spec });
      for (let i = 0; i < 3; i++) await w.append(recordMeta(i), tensorBytes(spec, i));
      await w.close();

      const bare = await runCli(['verify', dir, '--json']);
      expect(bare.code).toBe(2);
      expect(bare.stdout).toContain('Unknown format \\"files\\"');

      const preload = pathToFileURL(join(ROOT, 'test/formats/register-files-format.ts')).href;
      const withPlugin = await runCli(['verify', dir, '--json'], { env: { NODE_OPTIONS: `--import tsx --import ${preload}` } });
      expect(withPlugin.code).toBe(0);
      expect(parseJson<VerifyResult>(withPlugin)).toMatchObject({ ok: true, format: 'files', records: 3 });
    } finally {
      await cleanup();
    }
  });
});
