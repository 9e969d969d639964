/** Log levels understood by `--log-level`, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Minimal leveled logger writing to stderr, so stdout stays clean for tables and `--json`. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  readonly level: LogLevel;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (msg: string) => {
    if (LOG_LEVELS.indexOf(l) >= rank) write(l === 'info' ? msg : `${l}: ${msg}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), level };
}

/** A logger that prints nothing: the default for library calls. */
export const silentLogger: Logger = createLogger('silent');
