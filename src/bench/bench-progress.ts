/** Phases of one source in one repeat, in the order the study runs them. */
export type Phase = 'preprocess' | 'read' | 'read-float' | 'read-random' | 'train';

/** One unit of work of the plan. */
export interface Step {
  repeat: number;
  source: string;
  phase: Phase;
}

const key = (s: Step): string => `${s.source}/${s.phase}`;

/** Seconds as "42 s", "3m05s" or "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Tracks a fixed plan of steps and estimates the time left. A step's duration is predicted from
 * the same source and phase in an earlier repeat (the best guess: same work, same machine), else
 * from the mean of finished steps of that phase, else from the mean of all finished steps.
 * Before anything has finished there is no estimate.
 */
export class EtaTracker {
  private readonly durations = new Map<string, number[]>();
  private readonly byPhase = new Map<Phase, number[]>();
  private readonly finished: number[] = [];
  private doneCount = 0;

  constructor(private readonly plan: readonly Step[]) {}

  get total(): number {
    return this.plan.length;
  }

  get done(): number {
    return this.doneCount;
  }

  /** Record that `step` took `seconds`. */
  finish(step: Step, seconds: number): void {
    this.doneCount++;
    this.finished.push(seconds);
    const k = key(step);
    this.durations.set(k, [...(this.durations.get(k) ?? []), seconds]);
    this.byPhase.set(step.phase, [...(this.byPhase.get(step.phase) ?? []), seconds]);
  }

  /** Predicted seconds for one step, or undefined with nothing to go on. */
  predict(step: Step): number | undefined {
    const avg = (xs: number[] | undefined) => (xs && xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
    return avg(this.durations.get(key(step))) ?? avg(this.byPhase.get(step.phase)) ?? avg(this.finished);
  }

  /**
   * Seconds left for the steps not yet finished, minus what the running step has already spent.
   * Undefined until at least one step has finished.
   */
  etaSeconds(runningFor = 0): number | undefined {
    if (this.finished.length === 0) return undefined;
    let left = 0;
    for (const step of this.plan.slice(this.doneCount)) left += this.predict(step) ?? 0;
    return Math.max(0, left - runningFor);
  }
}

/** What the progress line shows. */
export interface ProgressState {
  repeat: number;
  repeats: number;
  source: string;
  phase: Phase;
  done: number;
  total: number;
  elapsedSeconds: number;
  etaSeconds: number | undefined;
}

/** "[repeat 2/3] lmdb · train · step 23/75 · 1m10s elapsed · ETA 2m05s" */
export function progressLine(p: ProgressState): string {
  return `[repeat ${p.repeat + 1}/${p.repeats}] ${p.source} · ${p.phase} · step ${p.done + 1}/${p.total} · `
    + `${formatDuration(p.elapsedSeconds)} elapsed · ETA ${p.etaSeconds === undefined ? '…' : formatDuration(p.etaSeconds)}`;
}

/**
 * Shows progress: on a terminal one line rewritten in place (and refreshed every second, so the
 * elapsed time and ETA move during a long training); otherwise one plain line per step, and again
 * every `heartbeatSeconds` while a step runs, which reads well in a log file.
 */
export class ProgressReporter {
  private readonly tracker: EtaTracker;
  private readonly t0 = performance.now();
  private current: { step: Step; t: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    plan: readonly Step[],
    private readonly repeats: number,
    private readonly out: { write(text: string): void; isTTY: boolean } | undefined,
    private readonly heartbeatSeconds = 30,
  ) {
    this.tracker = new EtaTracker(plan);
    if (out) {
      // A terminal line moves every second; a log file gets a line every half minute of a long step.
      this.timer = out.isTTY ? setInterval(() => this.render(), 1000) : setInterval(() => this.heartbeat(), heartbeatSeconds * 1000);
      this.timer.unref();
    }
  }

  private heartbeat(): void {
    if (this.current && performance.now() - this.current.t >= this.heartbeatSeconds * 1000 * 0.9) this.render();
  }

  /** Start `step` (finishing the previous one, if any). */
  begin(step: Step): void {
    this.end();
    this.current = { step, t: performance.now() };
    this.render();
  }

  /** Finish the running step. Returns its seconds. */
  end(): number | undefined {
    if (!this.current) return undefined;
    const seconds = (performance.now() - this.current.t) / 1000;
    this.tracker.finish(this.current.step, seconds);
    this.current = undefined;
    return seconds;
  }

  /**
   * Print a whole line (a log message) without mangling the progress line: on a terminal the
   * progress line is cleared, the message printed, and the progress line drawn again below it.
   */
  print(line: string): void {
    if (!this.out) return;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}\n`);
      this.render();
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Finish and clear the line. */
  close(): void {
    this.end();
    if (this.timer) clearInterval(this.timer);
    if (this.out?.isTTY) this.out.write('\r\x1b[2K');
  }

  private render(): void {
    if (!this.out || !this.current) return;
    const now = performance.now();
    const line = progressLine({
      repeat: this.current.step.repeat,
      repeats: this.repeats,
      source: this.current.step.source,
      phase: this.current.step.phase,
      done: this.tracker.done,
      total: this.tracker.total,
      elapsedSeconds: (now - this.t0) / 1000,
      etaSeconds: this.tracker.etaSeconds((now - this.current.t) / 1000),
    });
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}`);
    else this.out.write(`${line}\n`);
  }
}
