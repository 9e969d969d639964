import { type Command, Help } from '@oclif/core';
import { EXIT_CODE_MEANINGS, EXIT_CODES, type RetinaErrorCode } from '../../src/core/errors.js';
import { formatNames } from '../../formats/format-registry.js';

/** The registered formats (built-in and from plugins, see plugin-hooks.ts): names only, nothing loaded. */
export function formatsLine(): string {
  return `FORMATS\n  ${formatNames().join(', ')}  (retina plugins install/link adds more)`;
}

/** The documented exit codes, one per line: the table every command's --help ends with. */
export function exitCodeTable(): string {
  const rows = (Object.keys(EXIT_CODES) as RetinaErrorCode[])
    .sort((a, b) => EXIT_CODES[a] - EXIT_CODES[b])
    .map((code) => `  ${String(EXIT_CODES[code]).padStart(3)}  ${code.padEnd(12)}  ${EXIT_CODE_MEANINGS[code]}`);
  return ['EXIT CODES', '    0  OK', ...rows, '  Under --json every error is {"error": {"code", "message", ...}} on stdout.'].join('\n');
}

/** oclif's help plus the exit-code table (configured as `oclif.helpClass` in package.json). */
export default class RetinaHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    return `${super.formatCommand(command)}\n\n${formatsLine()}\n\n${exitCodeTable()}`;
  }

  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    this.log(`\n${formatsLine()}\n\n${exitCodeTable()}`);
  }
}
