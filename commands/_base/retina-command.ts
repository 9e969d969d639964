import { Command, Flags, Interfaces } from '@oclif/core';
import { RetinaError } from '../../src/core/errors.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../../src/core/log.js';

export type RetinaFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof RetinaCommand)['baseFlags'] & T['flags']>;

/**
 * Base of every retina command: shared flags (`--json`, `--log-level`), a logger on stderr, and
 * one mapping from RetinaError to a clear message and a non-zero exit status. A command's result
 * type (the value `run()` returns) is its `--json` contract.
 */
export abstract class RetinaCommand<T> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'log-level': Flags.option({
      options: LOG_LEVELS,
      default: 'info' as LogLevel,
      helpGroup: 'GLOBAL',
      summary: 'How much to print on stderr.',
    })(),
  };

  protected logger: Logger = createLogger('info');

  public override async init(): Promise<void> {
    await super.init();
    const level = this.argv.reduce<string | undefined>((found, arg, i, all) => {
      if (arg.startsWith('--log-level=')) return arg.slice('--log-level='.length);
      if (arg === '--log-level') return all[i + 1];
      return found;
    }, undefined);
    const valid = (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : 'info';
    // In --json mode progress chatter would still go to stderr; keep it to warnings and errors.
    this.logger = createLogger(this.jsonEnabled() && !level ? 'warn' : valid);
  }

  public abstract override run(): Promise<T>;

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof RetinaError) {
      process.exitCode = err.exitCode;
      if (this.jsonEnabled()) {
        this.logJson({ error: err.toJSON() });
      } else {
        process.stderr.write(`Error [${err.code}]: ${err.message}\n`);
        if (err.hint) process.stderr.write(`Hint: ${err.hint}\n`);
        if (err.cause !== undefined && this.logger.level === 'debug') process.stderr.write(`Cause: ${String((err.cause as Error)?.stack ?? err.cause)}\n`);
      }
      return undefined;
    }
    return super.catch(err);
  }
}
