/** Progress of a long run: a bar on a terminal, a periodic line in a log file (Slurm's *.out). */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export interface ProgressOptions {
  total: number;
  label: string;
  /** Where to draw; defaults to stderr. */
  stream?: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown; columns?: number };
  /** Seconds between lines when not a TTY. */
  intervalS?: number;
  /** Print nothing at all (library callers, `--json`). */
  silent?: boolean;
}

function formatEta(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60), r = Math.round(s % 60);
  return m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/**
 * Create a progress reporter. On a TTY it redraws one line at most 10 times a second; otherwise
 * it prints `label: 1200/35126 (3.4 %), 61.2 images/s, ETA 9m14s` every `intervalS` seconds and
 * once at the end, so Slurm logs show a run is alive without filling up.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const start = performance.now();
  const every = tty ? 100 : (opts.intervalS ?? 10) * 1000;
  let count = 0, last = start;
  const line = () => {
    const secs = (performance.now() - start) / 1000;
    const rate = secs > 0 ? count / secs : 0;
    const pct = opts.total ? (100 * count) / opts.total : 100;
    const eta = rate > 0 ? formatEta((opts.total - count) / rate) : '?';
    return { text: `${opts.label}: ${count}/${opts.total} (${pct.toFixed(1)} %), ${rate.toFixed(1)} images/s, ETA ${eta}`, pct };
  };
  const draw = (final: boolean) => {
    if (opts.silent) return;
    const { text, pct } = line();
    if (!tty) { stream.write(text + '\n'); return; }
    const width = Math.max(10, Math.min(40, ((stream as { columns?: number }).columns ?? 80) - text.length - 4));
    const fill = Math.round((width * pct) / 100);
    stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}${final ? '\n' : ''}`);
  };
  return {
    tick(n = 1) {
      count += n;
      const now = performance.now();
      if (now - last >= every) { last = now; draw(false); }
    },
    done() { draw(true); },
  };
}
