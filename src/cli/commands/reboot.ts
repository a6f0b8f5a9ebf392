// `fleet reboot`: reboot hosts, wait (bounded) for a new boot id, check they booted their boot default.
import type { CommandModule } from 'yargs';
import { parallelFrom, positiveSeconds, selectionFrom, type CommonArgs } from '../options.js';
import { withSelection } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface RebootArgs extends CommonArgs {
  plain?: boolean;
  'wait-timeout'?: number;
}

export function rebootCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, RebootArgs> {
  return {
    command: 'reboot [hosts..]',
    describe: 'reboot selected hosts and wait until each is back on its boot default',
    builder: (y) =>
      withSelection(y)
        .positional('hosts', { type: 'string', array: true, describe: 'host names, globs or @tags (same as --only)' })
        .option('wait-timeout', { type: 'number', describe: 'seconds a host has to come back with a new boot id (default 300)' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('json', { type: 'boolean', describe: 'print the results as JSON' }),
    handler: (args) =>
      done(
        (async () => {
          const { runReboot } = await import('../operate-change.js');
          return runReboot({
            file: args.file,
            selection: selectionFrom(args),
            parallel: parallelFrom(args.parallel),
            json: args.json ?? false,
            plain: args.plain ?? false,
            waitTimeout: positiveSeconds('wait-timeout', args['wait-timeout']) ?? 300,
          });
        })(),
      ),
  };
}
