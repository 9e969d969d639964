/**
 * Training progress on stderr: on a terminal a one-line bar redrawn at most 10 times a second;
 * otherwise (a Slurm log) the same text as a line every `intervalS` seconds and at the end, so a
 * log shows the run is alive without filling up. Whether to draw at all is the command's policy.
 */
export interface ProgressBar {
  update(done: number, total: number, label: string): void;
  clear(): void;
}

export function progressBar(
  enabled: boolean,
  stream: { isTTY?: boolean; write(s: string): unknown } = process.stderr,
  intervalS = 10,
): ProgressBar {
  const tty = Boolean(stream.isTTY);
  const every = tty ? 100 : intervalS * 1000;
  let last = -Infinity;
  let shown = false;
  return {
    update(done, total, label) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < every && done < total) return;
      last = now;
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
      if (tty) {
        stream.write(`\r${text}\x1b[K`);
        shown = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
