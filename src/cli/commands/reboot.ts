// `fleet reboot`: reboot hosts, wait (bounded) for a new boot id, check they booted their boot default.
import type { CommandModule } from 'yargs';
import { operateArgsFrom, positiveSeconds, type CommonArgs } from '../options.js';
import { withHostSelection, withSudoPassword } from '../shared-flags.js';
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
      withSudoPassword(withHostSelection(y))
        .option('wait-timeout', { type: 'number', describe: 'seconds a host has to come back with a new boot id (default 300)' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('json', { type: 'boolean', describe: 'print the results as JSON' }),
    handler: (args) =>
      done(
        (async () => {
          const { runReboot } = await import('../operate-change.js');
          return runReboot({
            ...operateArgsFrom(args),
            waitTimeout: positiveSeconds('wait-timeout', args['wait-timeout']),
          });
        })(),
      ),
  };
}
