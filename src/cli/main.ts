// The fleet command line: runs the parser (parser.ts), and is the one catch that turns errors into messages and exit codes.
import { hideBin } from 'yargs/helpers';
import { FleetError, ManifestError, UsageError } from '../errors.js';
import { EXIT } from './exit.js';
import { fleetParser } from './parser.js';
import type { CommandResult } from './result.js';

/** Maps an error to what the user sees and the exit code. Stacks only with FLEET_DEBUG=1. */
export function describeError(error: unknown): { lines: string[]; exitCode: number } {
  if (error instanceof ManifestError) {
    return { lines: [...error.message.split('\n'), `hint: ${error.hint}`], exitCode: EXIT.usage };
  }
  if (error instanceof FleetError) {
    const lines = [`fleet: ${error.message}`];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    const usage = error instanceof UsageError || error.code === 'MANIFEST' || error.code === 'USAGE';
    return { lines, exitCode: usage ? EXIT.usage : EXIT.hostFailure };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`fleet: internal error: ${message}`];
  if (process.env.FLEET_DEBUG && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push('hint: run again with FLEET_DEBUG=1 for details, and report it');
  return { lines, exitCode: EXIT.hostFailure };
}

/** Parses argv, runs one command, and returns its exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  let pending: Promise<CommandResult> | undefined;
  const done = (result: Promise<CommandResult>) => {
    pending = result;
  };
  let usageFailure: string | undefined;
  const parser = fleetParser(argv, {
    done,
    usageFailure: (message) => {
      usageFailure = message;
    },
  });

  try {
    await parser.parseAsync();
    if (usageFailure !== undefined) {
      process.stderr.write(`fleet: ${usageFailure}\nhint: see fleet --help\n`);
      return EXIT.usage;
    }
    if (!pending) return EXIT.ok; // --help, --version, completion
    const result = await pending;
    if (result.stdout && result.stdout.length > 0) process.stdout.write(`${result.stdout.join('\n')}\n`);
    return result.exitCode;
  } catch (error) {
    const { lines, exitCode } = describeError(error);
    process.stderr.write(`${lines.join('\n')}\n`);
    return exitCode;
  }
}

export async function run(): Promise<void> {
  const code = await main(hideBin(process.argv));
  // Let stdout drain before exiting (large JSON on a pipe).
  process.stdout.write('', () => process.exit(code));
}
