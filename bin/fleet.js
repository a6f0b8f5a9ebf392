#!/usr/bin/env node
// Entry point: runs the compiled CLI, bundled into one module (npm run build writes dist/). A bare `fleet --help` is served
// from dist/help.txt, which the build writes from this very CLI (yargs' help layout alone costs
// more than starting node); a test checks the two are the same text.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || '';
if (
  args.length === 1 &&
  (args[0] === '--help' || args[0] === '-h') &&
  !process.env.FLEET_NO_HELP_CACHE &&
  // yargs translates its headings and wraps to the terminal: only the layout the file was made in.
  (locale === '' || /^(C|POSIX|en)([._@]|$)/.test(locale)) &&
  (!process.stdout.isTTY || (process.stdout.columns ?? 0) >= 100)
) {
  let help;
  try {
    help = readFileSync(new URL('../dist/help.txt', import.meta.url), 'utf8');
  } catch {
    // Not built with the help file: yargs prints it.
  }
  if (help !== undefined) {
    process.stdout.write(help);
    process.exit(0);
  }
}

const { run } = await import('../dist/bundle/fleet.mjs');
await run();
