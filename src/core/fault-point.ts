/**
 * Named points where the fault suite (test/faults) kills the process, to prove that a kill at
 * each step of a commit leaves nothing a reader accepts and that a rerun redoes the work:
 * `RETINA_FAULT_POINT=commit:checksums retina preprocess …` dies with SIGKILL at that point.
 * Unset (always, outside the suite) it costs one environment lookup per commit.
 */
export function faultPoint(name: string): void {
  if (process.env.RETINA_FAULT_POINT !== name) return;
  // RETINA_FAULT_ACTION=pause:MS holds the process there instead (a writer that keeps its lock,
  // for the concurrent-writer faults); the default is SIGKILL.
  const pause = /^pause:(\d+)$/.exec(process.env.RETINA_FAULT_ACTION ?? '');
  if (pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(pause[1]));
  else process.kill(process.pid, 'SIGKILL');
}

/** The points, in the order a shard's commit passes them. */
export const FAULT_POINTS = ['commit:table', 'commit:checksums', 'commit:manifest', 'commit:renamed', 'atomic:before-rename'] as const;
