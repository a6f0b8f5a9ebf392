// The command line's grammar: every fleet command and flag, declared for yargs. main.ts runs it; the
// docs' flag tables are generated from it and checked against it.
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { EXIT_CODES_HELP } from './exit.js';
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

/** Where the parser hands what it found: the started command's result, or a usage failure's message. */
export interface ParserHandlers {
  done: (result: Promise<CommandResult>) => void;
  usageFailure: (message: string) => void;
}

/** The parser of `fleet <argv>`: it does not exit the process, and reports usage failures to `handlers`. */
export function fleetParser(argv: string[], handlers: ParserHandlers): Argv {
  return yargs(argv)
    .scriptName('fleet')
    // Words after `--` (fleet exec/ssh commands) stay strings, apart from the options.
    .parserConfiguration({ 'populate--': true })
    .usage('fleet <command> [options]\n\nDeclarative NixOS fleet deployment: one manifest (fleet.yaml), one command.')
    .command(validateCommand(handlers.done))
    .command(planCommand(handlers.done))
    .command(applyCommand(handlers.done))
    .command(diffCommand(handlers.done))
    .command(buildCommand(handlers.done))
    .command(pushKeysCommand(handlers.done))
    .command(pushSecretsCommand(handlers.done))
    .command(bootstrapCommand(handlers.done))
    .command(installCommand(handlers.done))
    .command(statusCommand(handlers.done))
    .command(checkCommand(handlers.done))
    .command(execCommand(handlers.done))
    .command(sshCommand(handlers.done))
    .command(generationsCommand(handlers.done))
    .command(historyCommand(handlers.done))
    .command(rollbackCommand(handlers.done))
    .command(rebootCommand(handlers.done))
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
      handlers.usageFailure(message || error?.message || 'invalid arguments');
    });
}
