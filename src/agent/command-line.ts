/**
 * Owns turning one raw Windows command-line string (a `CCMSETUPCMD` value, a line in a test or the demo) into the
 * parsed ccmsetup command line the flow runs, through src/args' tokenizer and parser.
 */
import { parseCcmsetupArgs, type CcmsetupCommandLine } from '../args/parse-ccmsetup-args.js';
import { tokenizeWindowsCommandLine } from '../args/windows-command-line.js';

export function parseCcmsetupCommandLine(line: string): CcmsetupCommandLine {
  return parseCcmsetupArgs(tokenizeWindowsCommandLine(line));
}
