// `fleet history <host>`: who deployed what to a host, when, from which revision.
import type { CommandModule } from 'yargs';
import { withFile, withSudoPassword } from '../shared-flags.js';
import { positiveCount } from '../options.js';
import type { CommandResult } from '../result.js';

export interface HistoryArgs {
  file?: string;
  host: string;
  json?: boolean;
  'ask-sudo-password'?: boolean;
  limit?: number;
}

export function historyCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, HistoryArgs> {
  return {
    command: 'history <host>',
    describe: "list a host's deploy history, newest first: every deploy, install and rollback through fleet, with who, when and which revision",
    builder: (y) =>
      withSudoPassword(withFile(y))
        .positional('host', { type: 'string', demandOption: true, describe: 'a host name from the manifest' })
        .option('limit', { alias: 'n', type: 'number', describe: 'the newest N records only' })
        .option('json', { type: 'boolean', describe: 'print the records as JSON (newest first)' }),
    handler: (args) =>
      done(
        (async () => {
          const { runHistory } = await import('../history-run.js');
          return runHistory({ file: args.file, host: args.host, json: args.json ?? false, askSudoPassword: args['ask-sudo-password'] ?? false, limit: positiveCount('limit', args.limit) });
        })(),
      ),
  };
}
