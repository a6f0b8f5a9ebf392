// `fleet check`: load, uptime, failed units, free space and the manifest's health checks, per host.
import type { CommandModule } from 'yargs';
import { operateArgsFrom, type CommonArgs } from '../options.js';
import { withHostSelection, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export function checkCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, CommonArgs & { plain?: boolean }> {
  return {
    command: 'check [hosts..]',
    describe: "check each host's health: load, uptime, failed units, free space on / and /nix, its healthChecks",
    builder: (y) =>
      withSudoPassword(withHostSelection(y))
        .option('json', { type: 'boolean', describe: 'print the results as JSON' })
        .option('plain', { type: 'boolean', describe: 'no live tree on a terminal: only the table' })
        .epilog('Unhealthy: unreachable, failed systemd units, less than 5% free on / or /nix, or a failing health check. Exit 1 when any host is unhealthy.'),
    handler: (args) =>
      done(
        (async () => {
          const { runCheck } = await import('../operate-run.js');
          return runCheck(operateArgsFrom(args));
        })(),
      ),
  };
}
