// `fleet diff`: per host, what its deploy would change (packages added, removed, changed; closure size).
import type { CommandModule } from 'yargs';
import { withHostSelection, withOutput, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';
import { contextArgsFrom, EVAL_CACHE_OPTION, EVAL_JOBS_OPTION, EVAL_LIMIT_OPTION, IMPURE_OPTION, STEP_SCOPES, type PlanArgs } from './plan.js';
import type { StepSelection } from '../apply-run.js';

interface DiffArgs extends PlanArgs {
  plain?: boolean;
  report?: string;
}

export function diffCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, DiffArgs> {
  return {
    command: 'diff [hosts..]',
    describe: "show what apply would change on each host: packages added, removed and changed, and the closure size (builds and copies, activates nothing)",
    builder: (y) =>
      withSudoPassword(withOutput(withHostSelection(y)))
        .option('eval-limit', EVAL_LIMIT_OPTION)
        .option('eval-jobs', EVAL_JOBS_OPTION)
        .option('eval-cache', EVAL_CACHE_OPTION)
        .option('impure', IMPURE_OPTION)
        .option('lock-timeout', { type: 'number', describe: 'seconds to wait for another run\'s deploy lock on a host (default 30)' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .epilog(
          'The built system is copied to each host first (the copy apply makes anyway), and the host lists both closures: ' +
            'the comparison needs the system it runs, which only the host has. Exit 0 when every host was compared, 1 when one could not be.',
        ),
    handler: (args) =>
      done(
        (async () => {
          const { applyPlan } = await import('../apply-run.js');
          const context = { ...contextArgsFrom({ ...args, diff: false, confirm: false }), diff: 'report' as const };
          return applyPlan(context, { json: args.json ?? false, plain: args.plain ?? false, reportFile: args.report }, STEP_SCOPES.diff as StepSelection);
        })(),
      ),
  };
}
