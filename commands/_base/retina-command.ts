import { Command, Flags, type Interfaces } from '@oclif/core';
import { exitCodeOf, type RetinaErrorCode } from '../../src/core/errors.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../../src/core/log.js';
import { toRetinaError } from './cli-errors.js';

// oclif's FlagOutput/ArgOutput (not exported by @oclif/core).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = { [name: string]: any };

export type RetinaFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof RetinaCommand)['baseFlags'] & T['flags']>;

/**
 * Base of every retina command. It owns the chores, so commands only parse flags, call one
 * library function and return its typed result (the `--json` contract):
 * - `--json` and `--log-level` (a logger on stderr, set from the parsed flags);
 * - one signal policy: the first SIGINT/SIGTERM aborts `this.signal` (commands that call
 *   `onStop()` finish cleanly; others exit 130 at once), a second one exits 130 at once;
 * - one progress policy (`this.progress`): on stderr unless `--json` or a log level quieter than
 *   info, a redrawn bar on a terminal and a periodic line otherwise (Slurm logs);
 * - one error policy: every failure, including flag-parsing errors, is a RetinaError with a
 *   documented exit code (`--help` lists them), `{"error": {"code", "message", ...}}` under --json.
 */
/** Seconds a clean stop may take after the first signal before the process exits anyway. */
const CLEANUP_GRACE_S = 30;

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
  private readonly controller = new AbortController();
  private stopping: string | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.stopping === undefined || this.controller.signal.aborted) process.exit(exitCodeOf('ABORTED'));
    this.logger.warn(`${signal}: ${this.stopping} (send it again to quit now)`);
    this.controller.abort(signal);
    // A clean stop whose cleanup itself hangs (a stuck read, a lock) must not outlive the signal by
    // much: a batch scheduler's SIGTERM is followed by SIGKILL anyway (#16 item 5).
    setTimeout(() => {
      process.stderr.write(`${signal}: cleanup did not finish in ${CLEANUP_GRACE_S} s; exiting\n`);
      process.exit(exitCodeOf('ABORTED'));
    }, CLEANUP_GRACE_S * 1000).unref();
  };

  /** Aborted by the first SIGINT or SIGTERM once the command called `onStop`. */
  protected get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether to draw progress on stderr (see the class comment). */
  protected get progress(): boolean {
    return !this.jsonEnabled() && (this.logger.level === 'info' || this.logger.level === 'debug');
  }

  /** Let the first signal stop the work cleanly through `this.signal`; `what` says how, for the user. */
  protected onStop(what: string): void {
    this.stopping = what;
  }

  public override async init(): Promise<void> {
    await super.init();
    if (this.jsonEnabled()) this.logger = createLogger('warn');
    process.on('SIGINT', this.onSignal).on('SIGTERM', this.onSignal);
  }

  /** oclif's parse, then the logger from the parsed `--log-level` (warnings only under --json unless asked). */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>, argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv);
    const flags = parsed.flags as Record<string, unknown>;
    const meta = (parsed.metadata as { flags?: Record<string, { setFromDefault?: boolean }> } | undefined)?.flags ?? {};
    const explicit = flags['log-level'] !== undefined && meta['log-level']?.setFromDefault !== true;
    const level = (LOG_LEVELS as readonly unknown[]).includes(flags['log-level']) ? (flags['log-level'] as LogLevel) : 'info';
    this.logger = createLogger(this.jsonEnabled() && !explicit ? 'warn' : level);
    return parsed;
  }

  public abstract override run(): Promise<T>;

  public override async finally(err: Error | undefined): Promise<unknown> {
    process.off('SIGINT', this.onSignal).off('SIGTERM', this.onSignal);
    return super.finally(err);
  }

  /** Set the exit status of a result that is not an error (e.g. `index` with shards missing). */
  protected exitWith(code: RetinaErrorCode): void {
    process.exitCode = exitCodeOf(code);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const known = toRetinaError(err, this.ctor as unknown as { id?: string; flags?: Record<string, unknown>; baseFlags?: Record<string, unknown> });
    if (known === undefined) {
      if (!this.jsonEnabled()) return super.catch(err);
      // A bug, not a documented failure: still one JSON object on stdout, never oclif's dump.
      process.exitCode = 1;
      this.logJson({ error: { code: 'INTERNAL', message: err.message } });
      return undefined;
    }
    process.exitCode = known.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: known.toJSON() });
    } else {
      process.stderr.write(`Error [${known.code}]: ${known.message}\n`);
      if (known.hint) process.stderr.write(`Hint: ${known.hint}\n`);
      if (known.cause !== undefined && this.logger.level === 'debug') process.stderr.write(`Cause: ${String((known.cause as Error)?.stack ?? known.cause)}\n`);
    }
    return undefined;
  }
}

