/**
 * Every failure retina reports on purpose is a RetinaError: a literal `code`, structured fields
 * naming the file, row, shard or record involved, and an optional `cause`. The CLI maps the code
 * to an exit status; library callers can branch on `code` without parsing messages.
 */
export type RetinaErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'CORRUPT'
  | 'INCOMPLETE'
  | 'EXISTS'
  | 'UNSUPPORTED'
  | 'ABORTED'
  | 'EXTERNAL'
  | 'DISK_FULL';

/** Where a problem is: any subset of these fields names it precisely. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  shard?: number;
  record?: number;
  id?: string;
}

/** The exit status of each code: the documented table (`retina --help` and the README show it). */
export const EXIT_CODES: Readonly<Record<RetinaErrorCode, number>> = {
  BAD_ARGUMENT: 2,
  BAD_INPUT: 3,
  NOT_FOUND: 4,
  CORRUPT: 5,
  INCOMPLETE: 6,
  EXISTS: 7,
  UNSUPPORTED: 8,
  ABORTED: 130,
  EXTERNAL: 9,
  /** No space left (ENOSPC, EDQUOT): free space, then rerun. Its own code so scripts can tell it from damage. */
  DISK_FULL: 10,
};

/** What each code means, for `--help`. */
export const EXIT_CODE_MEANINGS: Readonly<Record<RetinaErrorCode, string>> = {
  BAD_ARGUMENT: 'bad argument (a flag or its value)',
  BAD_INPUT: 'bad input (a labels row, an image)',
  NOT_FOUND: 'not found (a file, folder or dataset)',
  CORRUPT: 'corrupt (a checksum or record does not match)',
  INCOMPLETE: 'incomplete (shards missing)',
  EXISTS: 'exists (would overwrite a finished result)',
  UNSUPPORTED: 'unsupported (a format, dtype or backend)',
  EXTERNAL: 'an external tool failed (sbatch, a native library)',
  ABORTED: 'interrupted (SIGINT/SIGTERM)',
  DISK_FULL: 'the disk is full (nothing half-written is left)',
};

/** The exit status for `code`. */
export function exitCodeOf(code: RetinaErrorCode): number {
  return EXIT_CODES[code];
}

/** Whether `v` names a RetinaError code (for codes that crossed a thread or process as data). */
export function isRetinaErrorCode(v: unknown): v is RetinaErrorCode {
  return typeof v === 'string' && Object.hasOwn(EXIT_CODES, v);
}

export class RetinaError extends Error {
  readonly code: RetinaErrorCode;
  readonly location: ErrorLocation;
  /** One line telling the user what to do next; printed after the message. */
  readonly hint: string | undefined;

  constructor(
    code: RetinaErrorCode,
    message: string,
    opts: { location?: ErrorLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RetinaError';
    this.code = code;
    this.location = opts.location ?? {};
    this.hint = opts.hint;
  }

  /** Process exit status for this error (2 for bad arguments, like most CLIs). */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  /** A JSON-safe view for `--json` error output. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.location, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** Narrow an unknown thrown value to a message string. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Build the standard "expected X for Y but received Z" argument error. */
export function badArgument(what: string, expected: string, received: unknown, hint?: string): RetinaError {
  return new RetinaError(
    'BAD_ARGUMENT',
    `Expected ${expected} for ${what} but received ${JSON.stringify(received)}`,
    hint === undefined ? {} : { hint },
  );
}
