// `fleet generations`: a host's system generations, which is live and which is the boot default.
import type { CommandModule } from 'yargs';
import { withFile, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface GenerationsArgs {
  file?: string;
  host: string;
  json?: boolean;
  'ask-sudo-password'?: boolean;
}

export function generationsCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, GenerationsArgs> {
  return {
    command: 'generations <host>',
    describe: "list a host's system generations with dates, marking the live one and the boot default",
    builder: (y) =>
      withSudoPassword(withFile(y))
        .positional('host', { type: 'string', demandOption: true, describe: 'a host name from the manifest' })
        .option('json', { type: 'boolean', describe: 'print the generations as JSON' }),
    handler: (args) =>
      done(
        (async () => {
          const { runGenerations } = await import('../operate-run.js');
          return runGenerations({ file: args.file, host: args.host, json: args.json ?? false, askSudoPassword: args['ask-sudo-password'] ?? false });
        })(),
      ),
  };
}
