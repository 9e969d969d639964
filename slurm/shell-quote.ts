import { badArgument } from '../src/core/errors.js';

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quote `word` for a POSIX shell (bash, sh) so that it reaches the program as exactly one
 * argument, whatever it holds: spaces, quotes, `$`, globs, newlines. Plain words stay bare so the
 * rendered scripts remain readable.
 *
 * @example shellQuote("it's") // => 'it'\''s'
 */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quote every word and join them with spaces: one shell command line. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/**
 * Render `--name=value` for an `#SBATCH` line. sbatch reads these lines itself (no shell), and
 * understands one level of single or double quotes but no escapes, and a line cannot span two.
 * So a value holding a newline, or both kinds of quote, cannot be written and is refused.
 */
export function directive(name: string, value: string | number): string {
  const text = String(value);
  if (/[\r\n\0]/.test(text)) throw badArgument(`#SBATCH --${name}`, 'a value without line breaks', text);
  if (SAFE_WORD.test(text)) return `#SBATCH --${name}=${text}`;
  if (!text.includes('"')) return `#SBATCH --${name}="${text}"`;
  if (!text.includes("'")) return `#SBATCH --${name}='${text}'`;
  throw badArgument(`#SBATCH --${name}`, 'a value without both single and double quotes (sbatch cannot read it)', text);
}

/**
 * Escape a literal path for a Slurm filename pattern (`--output`): `%` introduces a pattern
 * (`%A`, `%a`, `%j`), so a literal one is written `%%`. A backslash would switch patterns off for
 * the whole name, so it is refused.
 */
export function slurmPathLiteral(path: string): string {
  if (path.includes('\\')) throw badArgument('log folder', 'a path without backslashes (Slurm reads one as "no patterns")', path);
  return path.replace(/%/g, '%%');
}
