import { directive, shellQuote, slurmPathLiteral } from './shell-quote.js';
import { parseSlurmTime, signalLeadSeconds, type SlurmResources } from './resources.js';
import type { RetinaInvocation } from './retina-invocation.js';
import { MALLOC_ASSIGNMENTS, NODE_FLAGS } from '../src/node-flags.js';

/** How the scripts start retina, after `invocationLines`. */
export const RUN_RETINA = '"$NODE" "${NODE_FLAGS[@]}" "$RETINA"';

/** The `#SBATCH` lines every retina job shares: name, resources, logs, signal, requeue. */
export function resourceDirectives(
  r: SlurmResources,
  log: { dir: string; pattern: string },
  requeueNote = 'Safe to requeue: a rerun skips complete output and redoes incomplete output from scratch.',
): string[] {
  const out = slurmPathLiteral(log.dir) + '/' + log.pattern;
  const lines = [
    directive('job-name', r.jobName),
    directive('cpus-per-task', r.cpusPerTask),
    directive('mem', r.mem),
    directive('time', r.time),
  ];
  if (r.partition !== undefined) lines.push(directive('partition', r.partition));
  if (r.account !== undefined) lines.push(directive('account', r.account));
  if (r.gpus !== undefined && r.gpus > 0) lines.push(directive('gres', `gpu:${r.gpus}`));
  lines.push(
    directive('output', out),
    directive('error', out),
    '# A requeued task (node failure, preemption) appends to its log instead of erasing it.',
    directive('open-mode', 'append'),
    `# SIGTERM to the batch shell ${signalLeadSeconds(parseSlurmTime(r.time))} s before the time limit; the trap below passes it on.`,
    directive('signal', `B:TERM@${signalLeadSeconds(parseSlurmTime(r.time))}`),
    `# ${requeueNote}`,
    '#SBATCH --requeue',
  );
  for (const opt of r.extra ?? []) lines.push(`#SBATCH ${opt}`);
  return lines;
}

/** Shell lines naming the Node binary, its flags and retina's entry point (absolute, quoted). */
export function invocationLines(retina: RetinaInvocation): string[] {
  return [
    `NODE=${shellQuote(retina.node)}`,
    '# V8 flags and malloc settings retina runs best with (far fewer full GCs and page faults).',
    `NODE_FLAGS=(${NODE_FLAGS.map(shellQuote).join(' ')})`,
    `export ${MALLOC_ASSIGNMENTS.join(' ')}`,
    `RETINA=${shellQuote(retina.script)}`,
  ];
}

/**
 * Run `command` (already quoted, starting with `RUN_RETINA`) in the background and wait for
 * it, forwarding SIGTERM. bash runs a trap only once the foreground child has exited, so a
 * foreground retina would never hear the early warning; in the background it gets SIGTERM at
 * once, stops cleanly, and its own exit status becomes the task's.
 */
export function runForwardingTerm(command: string, what: string): string[] {
  return [
    'child=',
    `trap 'echo "retina: SIGTERM (time limit, preemption or scancel): stopping ${what.replace(/'/g, '')}" >&2; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM`,
    `${command} &`,
    'child=$!',
    'wait "$child"; status=$?',
    '# wait returns early when the trap fires; wait again for retina\'s own exit status.',
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
    'echo "retina: exit status $status at $(date -Is)"',
    'exit "$status"',
  ];
}
