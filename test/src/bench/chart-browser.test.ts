import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChartHtml } from '../../../src/bench/chart.js';
import { chromium } from '../../helpers/chromium.js';
import { tempDir } from '../../helpers/cli.js';
import { sampleReport } from './sample-report.js';
import { chromiumBrowser } from '../../helpers/requirements.js';

const browser = chromiumBrowser();

/**
 * The chart opened in real headless Chromium (Debian's `chromium` package): the page's own script
 * measures every bar after layout and writes the count on <body data-bars>; a bar counts only if
 * the browser gave it a positive width.
 */
describe.skipIf(!browser.available)(`chart in a real browser${browser.titleSuffix}`, () => {
  it('renders every bar of every source', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const report = sampleReport({ preset: true, sources: ['images', 'raw', 'msgpack', 'lmdb'] });
      const file = join(dir, 'chart.html');
      await writeFile(file, renderChartHtml(report));
      const dom = await chromium(file, { dumpDom: true });
      // 4 epoch bars + 4x3 read bars + 4 preset bars (2 seed, best format, images).
      expect(dom).toMatch(/<body data-bars="20"/);
      for (const source of ['images', 'raw', 'msgpack', 'lmdb']) {
        const rendered = [...dom.matchAll(new RegExp(`<rect class="bar" data-source="${source}" data-metric="(\\w+)"[^>]*data-rendered-width="([\\d.]+)"`, 'g'))];
        expect(rendered.filter((m) => m[1] === 'secondsPerEpoch')).toHaveLength(1);
        expect(rendered.filter((m) => m[1]!.endsWith('ImagesPerSecond'))).toHaveLength(3);
        for (const m of rendered) expect(Number(m[2])).toBeGreaterThan(0);
      }
      expect(dom).toContain('Machine: Test CPU 9000');

      const png = join(dir, 'chart.png');
      await chromium(file, { screenshot: png, width: 1020, height: 1100 });
      const bytes = await readFile(png);
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect((await stat(png)).size).toBeGreaterThan(20_000);
      if (process.env.RETINA_KEEP_SCREENSHOT) await writeFile(process.env.RETINA_KEEP_SCREENSHOT, bytes);
    } finally {
      await cleanup();
    }
  });
});
