import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Debian's chromium (apt-get install chromium); CI installs it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * Open a local HTML file in real headless Chromium with a fresh profile and no network chatter.
 * `--dump-dom` gives the DOM after scripts ran; `--screenshot=PATH` writes a PNG.
 */
export async function chromium(file: string, mode: { dumpDom: true } | { screenshot: string; width?: number; height?: number }): Promise<string> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM`);
  const profile = await mkdtemp(join(tmpdir(), 'retina-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
  ];
  if ('dumpDom' in mode) args.push('--dump-dom');
  else args.push(`--screenshot=${mode.screenshot}`, `--window-size=${mode.width ?? 1024},${mode.height ?? 1200}`, '--hide-scrollbars');
  args.push(pathToFileURL(file).href);
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(CHROMIUM, args, { timeout: 90_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
