/**
 * Owns splitting one raw Windows command-line string (a CCMSETUPCMD value, a pasted line) into arguments the way
 * the Microsoft C runtime does (`parse_cmdline`, the rules CommandLineToArgvW documents), and the reverse: quoting
 * arguments so that string splits back into them.
 */

/**
 * Splits `line` into arguments:
 * - spaces and tabs separate arguments outside quotes;
 * - `"` toggles quoting (it is not kept); inside quotes `""` is one literal quote (MSVC 2008+ rule);
 * - 2n backslashes before a quote give n backslashes and the quote acts as above;
 *   2n+1 backslashes before a quote give n backslashes and a literal quote;
 * - backslashes not before a quote are literal (`"\\server\share"` → `\\server\share`).
 * The first argument is not treated as a program name: CCMSETUPCMD values hold only parameters and properties.
 */
export function tokenizeWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let inQuotes = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (!inQuotes && (c === ' ' || c === '\t' || c === '\r' || c === '\n')) {
      if (inArg) {
        args.push(current);
        current = '';
        inArg = false;
      }
      i++;
      continue;
    }
    inArg = true;
    if (c === '\\') {
      let n = 0;
      while (line[i] === '\\') {
        n++;
        i++;
      }
      if (line[i] === '"') {
        current += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) {
          current += '"';
          i++;
        }
        // even: the quote is handled by the next iteration
      } else {
        current += '\\'.repeat(n);
      }
      continue;
    }
    if (c === '"') {
      if (inQuotes && line[i + 1] === '"') {
        current += '"';
        i += 2;
        continue;
      }
      inQuotes = !inQuotes;
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (inArg) args.push(current);
  return args;
}

/** Quotes one argument so `tokenizeWindowsCommandLine` gives it back unchanged (only when it needs quoting). */
export function quoteWindowsArgument(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const c of arg) {
    if (c === '\\') {
      backslashes++;
      continue;
    }
    if (c === '"') {
      out += '\\'.repeat(backslashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(backslashes) + c;
    }
    backslashes = 0;
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/**
 * Quotes a `/name:value` or `NAME=value` argument the way the docs write it: the name bare, the value quoted
 * (`/config:"configuration file name.txt"`); anything else through `quoteWindowsArgument`.
 */
export function quoteCcmsetupArgument(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  const m = /^(\/[A-Za-z?]+:|[A-Za-z_][A-Za-z0-9_]*=)(.*)$/s.exec(arg);
  if (m) return m[1]! + quoteWindowsArgument(m[2]!);
  return quoteWindowsArgument(arg);
}
