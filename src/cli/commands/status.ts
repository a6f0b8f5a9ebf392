// `fleet status`: per host, reachable or not, live system, boot default, the wanted system, and a verdict.
import type { CommandModule } from 'yargs';
import { operateArgsFrom, type CommonArgs } from '../options.js';
import { withHostSelection, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';
import { EVAL_CACHE_OPTION, evaluationFrom, IMPURE_OPTION } from './plan.js';

export function statusCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, CommonArgs & { plain?: boolean; 'eval-cache'?: boolean; impure?: boolean }> {
  return {
    command: 'status [hosts..]',
    describe: 'compare what each host runs and boots with what the flake wants (evaluation only, no build)',
    builder: (y) =>
      withSudoPassword(withHostSelection(y))
        .option('json', { type: 'boolean', describe: 'print the statuses as JSON' })
        .option('plain', { type: 'boolean', describe: 'no live tree on a terminal: only the table' })
        .option('eval-cache', EVAL_CACHE_OPTION)
        .option('impure', IMPURE_OPTION)
        .epilog('Exit 0: every host up to date; 3: some host outdated, pending reboot or not installed; 1: a host unreachable or an evaluation failed.'),
    handler: (args) =>
      done(
        (async () => {
          const { runStatus } = await import('../operate-run.js');
          return runStatus({ ...operateArgsFrom(args), ...evaluationFrom(args) });
        })(),
      ),
  };
}
