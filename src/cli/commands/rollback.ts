// `fleet rollback`: back to the previous (or a given) generation, live with the SSH-loss watchdog, or at next boot.
import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { nonNegativeSeconds, operateArgsFrom, type CommonArgs } from '../options.js';
import { withHostSelection, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';

export interface RollbackArgs extends CommonArgs {
  plain?: boolean;
  to?: number;
  'lock-timeout'?: number;
}

/** --to: a generation number ≥ 1. */
export function generationFrom(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--to must be a generation number ≥ 1 (got ${String(value)})`);
  return n;
}

export function rollbackCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, RollbackArgs> {
  return {
    command: 'rollback [hosts..]',
    describe: 'switch selected hosts back to their previous system generation (or --to N)',
    builder: (y) =>
      withSudoPassword(withHostSelection(y))
        .option('to', { type: 'number', describe: 'the generation to go to (default: the one before the boot default)' })
        .option('boot', { type: 'boolean', describe: 'make it the boot default only; activates at next boot' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('json', { type: 'boolean', describe: 'print the outcomes as JSON' })
        .option('lock-timeout', { type: 'number', describe: "seconds to wait for another run's deploy lock on a host (default 30)" })
        .epilog('Without --boot the rollback is live (switch) and guarded by the rollback watchdog, as fleet apply is.'),
    handler: (args) =>
      done(
        (async () => {
          const { runRollback } = await import('../operate-change.js');
          return runRollback({
            ...operateArgsFrom(args),
            to: generationFrom(args.to),
            boot: args.boot ?? false,
            lockTimeout: nonNegativeSeconds('lock-timeout', args['lock-timeout']),
          });
        })(),
      ),
  };
}
