import type { Hook } from '@oclif/core';
import { RetinaError } from '../../src/core/errors.js';
import { closest } from './cli-errors.js';

/**
 * oclif `command_not_found` hook: an unknown command is a BAD_ARGUMENT like any other (exit 2),
 * reported as `{"error": ...}` under --json, with the closest command as a suggestion.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = opts.id.replace(/:/g, ' ');
  const ids = opts.config.commandIDs.filter((id) => !id.startsWith('_')).map((id) => id.replace(/:/g, ' '));
  const guess = closest(typed, ids);
  const err = new RetinaError('BAD_ARGUMENT', `Unknown command "${typed}"${guess ? ` (did you mean "${guess}"?)` : ''}`, {
    hint: `${guess ? `Did you mean retina ${guess}? ` : ''}See retina --help for the commands.`,
  });
  process.exitCode = err.exitCode;
  if ((opts.argv ?? []).includes('--json') || typed.split(' ').includes('--json')) {
    process.stdout.write(JSON.stringify({ error: err.toJSON() }, null, 2) + '\n');
  } else {
    process.stderr.write(`Error [${err.code}]: ${err.message}\nHint: ${err.hint}\n`);
  }
};

export default hook;
