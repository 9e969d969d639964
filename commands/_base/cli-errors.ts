import { diskFullFromErrno } from '../../src/core/disk-full.js';
import { Errors } from '@oclif/core';
import { RetinaError } from '../../src/core/errors.js';

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate closest to `typed`, if it is close enough to be a typo (or `typed` is a prefix of it). */
export function closest(typed: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(typed) && typed.length >= 3 ? 0.5 : editDistance(typed, c);
    if (d < bestD) { best = c; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** oclif's parse messages as one plain line: no colours, no "See more help", flags with their dashes. */
function cleanMessage(text: string): string {
  return text.replace(ANSI, '').replace(/\s*\n\s*/g, ' ')
    .replace(/^The following errors? occurred: /, '')
    .replace(/\s*See more help with --help\s*/g, ' ')
    .replace(/^Parsing (--[\w-]+) Expected/, '$1: expected')
    .replace(/^Parsing (--[\w-]+) /, '$1: ')
    .replace(/Missing required flag (?!--)([\w-]+)/g, 'Missing required flag --$1')
    .trim();
}

interface CommandShape { id?: string; flags?: Record<string, unknown>; baseFlags?: Record<string, unknown> }

/**
 * A thrown value as the RetinaError the CLI reports, or undefined for a bug (not a documented
 * failure). oclif's flag and argument parsing errors are BAD_ARGUMENT (exit 2) with a hint:
 * the closest flag for a typo, else the command's --help.
 */
export function toRetinaError(err: unknown, command: CommandShape): RetinaError | undefined {
  const help = `See retina ${(command.id ?? '').replace(/:/g, ' ')} --help.`.replace('  ', ' ');
  if (err instanceof RetinaError) {
    // A flag's own parser (e.g. --val-fraction) threw it; oclif prefixed "Parsing --flag".
    if (!err.message.startsWith('Parsing --')) return err;
    const parsed = err.message.replace(/^Parsing --[\w-]+\s*/, '');
    return new RetinaError(err.code, cleanMessage(parsed), { location: err.location, hint: err.hint ?? help, cause: err.cause });
  }
  // A full disk that no library call mapped itself: its own code (10) and hint, not a raw Node error.
  const full = diskFullFromErrno(err);
  if (full) return full;
  if (!(err instanceof Errors.CLIError)) return undefined;
  if (err instanceof Errors.ExitError) return undefined;
  const message = cleanMessage(err.message);
  const typos = (err as { flags?: unknown }).flags;
  if (Array.isArray(typos) && typos.length > 0) {
    const names = [...Object.keys(command.flags ?? {}), ...Object.keys(command.baseFlags ?? {}), 'json', 'help'].map((n) => `--${n}`);
    const typed = String(typos[0]).split('=')[0]!;
    const guess = closest(typed, names);
    return new RetinaError('BAD_ARGUMENT', `Unknown flag ${typed}${guess ? ` (did you mean ${guess}?)` : ''}`, {
      hint: guess ? `Did you mean ${guess}? ${help}` : help, cause: err,
    });
  }
  return new RetinaError('BAD_ARGUMENT', message, { hint: help, cause: err });
}
