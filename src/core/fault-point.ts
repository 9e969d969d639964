/**
 * Named points where the fault suite (test/faults) kills the process, to prove that a kill at
 * each step of a commit leaves nothing a reader accepts and that a rerun redoes the work:
 * `RETINA_FAULT_POINT=commit:checksums retina preprocess …` dies with SIGKILL at that point.
 * Unset (always, outside the suite) it costs one environment lookup per commit.
 */
export function faultPoint(name: string): void {
  if (process.env.RETINA_FAULT_POINT === name) process.kill(process.pid, 'SIGKILL');
}

/** The points, in the order a shard's commit passes them. */
export const FAULT_POINTS = ['commit:table', 'commit:checksums', 'commit:manifest', 'commit:renamed', 'atomic:before-rename'] as const;
