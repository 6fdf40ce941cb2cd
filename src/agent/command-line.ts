/**
 * Owns turning one raw Windows command-line string (a `CCMSETUPCMD` value, a line in a test or the demo) into the
 * parsed ccmsetup command line the flow runs, through src/args' tokenizer and parser (which also reads a `/config`
 * file, relative to `options.cwd` or the working directory).
 */
import { parseCcmsetupArgs, type CcmsetupCommandLine, type ParseCcmsetupOptions } from '../args/parse-ccmsetup-args.js';
import { tokenizeWindowsCommandLine } from '../args/windows-command-line.js';

export function parseCcmsetupCommandLine(line: string, options: ParseCcmsetupOptions = {}): CcmsetupCommandLine {
  return parseCcmsetupArgs(tokenizeWindowsCommandLine(line), options);
}
