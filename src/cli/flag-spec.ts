import { isAbsolute, resolve } from 'node:path';
import { badArgument } from '../core/errors.js';

/**
 * Flags declared once. A command's flags are one record of plain data (no oclif here: library
 * code never imports it): the command turns the record into oclif flags
 * (`commands/_base/oclif-flags.ts`), its Slurm twin reuses the same record, and the sbatch
 * renderer turns parsed values back into argv with `renderArgv`, in record order. Adding a flag to
 * `retina train` is one entry in `TRAIN_FLAGS`: `retina slurm train` accepts it, checks it the same
 * way and passes it on, and `flagValues` hands it to `train()` under its camelCase name.
 */

interface CommonSpec {
  summary: string;
  description?: string;
  /** Must be given (oclif refuses to run without it, as does the Slurm twin). */
  required?: boolean;
  /** Read from this environment variable when the flag is absent (the command only). */
  env?: string;
  hidden?: boolean;
  helpGroup?: string;
  /**
   * `skip`: the Slurm twin neither offers nor passes it (each task sets it itself, e.g. --shard).
   * By default the twin offers it without a default (the job's `retina` applies its own) and
   * passes it on only when the user gave it.
   */
  slurm?: 'skip';
}

export interface StringFlagSpec extends CommonSpec {
  kind: 'string';
  default?: string;
  /** The accepted values; anything else is refused when parsing. */
  options?: readonly string[];
  /**
   * A path: the Slurm twin makes it absolute (the job may start in another folder) and keeps
   * this flag's default, resolved against the submitting folder.
   */
  path?: 'file' | 'directory';
}

export interface IntegerFlagSpec extends CommonSpec {
  kind: 'integer';
  default?: number;
  min?: number;
  max?: number;
}

/** A decimal number, parsed and checked by `parse` (see `decimal` and `fraction`). */
export interface NumberFlagSpec extends CommonSpec {
  kind: 'number';
  default?: number;
  parse: (text: string, flag: string) => number;
}

export interface BooleanFlagSpec extends CommonSpec {
  kind: 'boolean';
  default?: boolean;
  /** Also accept `--no-NAME` (false is then passed on as `--no-NAME`). */
  allowNo?: boolean;
}

export type FlagSpec = StringFlagSpec | IntegerFlagSpec | NumberFlagSpec | BooleanFlagSpec;
export type FlagRecord = Readonly<Record<string, FlagSpec>>;

/** `val-fraction` -> `valFraction`: the key a flag's value has in a library options object. */
export type CamelCase<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<CamelCase<B>>}` : S;

export function camelCase<S extends string>(name: S): CamelCase<S> {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as CamelCase<S>;
}

type ValueOf<S> = S extends { kind: 'boolean' } ? boolean
  : S extends { kind: 'integer' | 'number' } ? number
  : S extends { options: readonly (infer O)[] } ? O
  : string;
type Always<S> = S extends { required: true } ? true : S extends { default: unknown } ? true : false;

/** Parsed values of a command's flags, keyed by camelCase name (what its library function takes). */
export type FlagValues<R extends FlagRecord> = {
  [K in keyof R & string as Always<R[K]> extends true ? CamelCase<K> : never]: ValueOf<R[K]>;
} & {
  [K in keyof R & string as Always<R[K]> extends true ? never : CamelCase<K>]?: ValueOf<R[K]> | undefined;
};

/** Values as the Slurm twin has them: only required flags are sure to be there. */
export type PassedValues<R extends FlagRecord> = {
  [K in keyof R & string as R[K] extends { required: true } ? CamelCase<K> : never]: ValueOf<R[K]>;
} & {
  [K in keyof R & string as R[K] extends { required: true } ? never : CamelCase<K>]?: ValueOf<R[K]> | undefined;
};

/** Parsed flags (by CLI name) -> values by camelCase name, for every flag of `record`. */
export function flagValues<R extends FlagRecord>(record: R, parsed: Readonly<Record<string, unknown>>): FlagValues<R> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(record)) out[camelCase(name)] = parsed[name];
  return out as FlagValues<R>;
}

/**
 * argv that passes `values` on to the command of `record` (after its name), in record order:
 * `--name value`; booleans as `--name` when true and `--no-name` when false and allowed;
 * undefined values and `slurm: 'skip'` flags are left out.
 */
export function renderArgv(record: FlagRecord, values: Readonly<Record<string, unknown>>): string[] {
  const argv: string[] = [];
  for (const [name, spec] of Object.entries(record)) {
    if (spec.slurm === 'skip') continue;
    const v = values[camelCase(name)];
    if (v === undefined || v === null) continue;
    if (spec.kind === 'boolean') {
      if (v === true) argv.push(`--${name}`);
      else if (spec.allowNo) argv.push(`--no-${name}`);
      continue;
    }
    argv.push(`--${name}`, String(v));
  }
  return argv;
}

/** `values` with every path flag of `record` made absolute against `cwd`. */
export function resolvePaths<V extends Readonly<Record<string, unknown>>>(record: FlagRecord, values: V, cwd: string = process.cwd()): V {
  const out: Record<string, unknown> = { ...values };
  for (const [name, spec] of Object.entries(record)) {
    const key = camelCase(name);
    const v = out[key];
    if (spec.kind === 'string' && spec.path && typeof v === 'string') out[key] = isAbsolute(v) ? resolve(v) : resolve(cwd, v);
  }
  return out as V;
}

/** A plain word (a format or source name) that is safe to put in a script and a folder name. */
export function checkWord(flag: string, value: string, expected: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(value)) throw badArgument(flag, expected, value);
  return value;
}

/** Parser of a finite decimal (oclif has integers only), e.g. --lr 1e-4. */
export function decimal(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw badArgument(flag, 'a number', text);
  return v;
}

/** Parser of a share in [0, 1), e.g. --val-fraction 0.1. */
export function fraction(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !(v >= 0 && v < 1)) throw badArgument(flag, 'a number in [0, 1)', text);
  return v;
}
