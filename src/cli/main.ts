// The fleet command line: yargs commands, the one catch that turns errors into messages and exit codes.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { FleetError, ManifestError, UsageError } from '../errors.js';
import { EXIT, EXIT_CODES_HELP } from './exit.js';
import type { CommandResult } from './result.js';
import { planCommand } from './commands/plan.js';
import { validateCommand } from './commands/validate.js';
import { applyCommand } from './commands/apply.js';
import { statusCommand } from './commands/status.js';
import { checkCommand } from './commands/check.js';
import { sshCommand } from './commands/ssh.js';
import { execCommand } from './commands/exec.js';
import { generationsCommand } from './commands/generations.js';
import { historyCommand } from './commands/history.js';
import { rollbackCommand } from './commands/rollback.js';
import { rebootCommand } from './commands/reboot.js';
import { bootstrapCommand, buildCommand, pushKeysCommand, pushSecretsCommand } from './commands/steps.js';
import { installCommand } from './commands/install.js';
import { diffCommand } from './commands/diff.js';

/** The widest help text: wider lines are hard to read, even on a wide terminal. */
const HELP_WIDTH = 100;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
  const parser = yargs(argv)
    .scriptName('fleet')
    // Words after `--` (fleet exec/ssh commands) stay strings, apart from the options.
    .parserConfiguration({ 'populate--': true })
    .usage('fleet <command> [options]\n\nDeclarative NixOS fleet deployment: one manifest (fleet.yaml), one command.')
    .command(validateCommand(done))
    .command(planCommand(done))
    .command(applyCommand(done))
    .command(diffCommand(done))
    .command(buildCommand(done))
    .command(pushKeysCommand(done))
    .command(pushSecretsCommand(done))
    .command(bootstrapCommand(done))
    .command(installCommand(done))
    .command(statusCommand(done))
    .command(checkCommand(done))
    .command(execCommand(done))
    .command(sshCommand(done))
    .command(generationsCommand(done))
    .command(historyCommand(done))
    .command(rollbackCommand(done))
    .command(rebootCommand(done))
    .demandCommand(1, 'name a command (see fleet --help)')
    .strict()
    .recommendCommands()
    .completion('completion', 'print a bash/zsh completion script')
    .version(version())
    .alias('h', 'help')
    .epilog(`${EXIT_CODES_HELP}\n\nDocs: docs/cli.md, docs/manifest.md`)
    .wrap(Math.min(HELP_WIDTH, process.stdout.columns || HELP_WIDTH))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs' own errors (YError, e.g. a flag's coerce refusing a value) are usage errors too.
      if (error && error.name !== 'YError') throw error;
      usageFailure = message || error?.message || 'invalid arguments';
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
