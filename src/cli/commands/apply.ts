// `fleet apply`: argv → options, then build once and run every selected host's steps.
import type { CommandModule } from 'yargs';
import { VERBOSE_OPTION, withClosureFlags, withHostSelection, withModes, withOutput, withRollout, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';
import { CONFIRM_OPTION, contextArgsFrom, DIFF_OPTION, EVAL_CACHE_OPTION, EVAL_JOBS_OPTION, EVAL_LIMIT_OPTION, IMPURE_OPTION, REBUILD_FLAVOUR_OPTION, SPECIALISATION_OPTION, type PlanArgs } from './plan.js';

export interface ApplyArgs extends PlanArgs {
  'dry-run'?: boolean;
  'keep-going'?: boolean;
  plain?: boolean;
  verbose?: boolean;
  report?: string;
  'retry-failed'?: string;
}

export function applyCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, ApplyArgs> {
  return {
    command: 'apply [hosts..]',
    describe: 'build every selected host once, then push keys, bootstrap and deploy, in parallel',
    builder: (y) =>
      withSudoPassword(withClosureFlags(withRollout(withOutput(withModes(withHostSelection(y))))))
        .option('yes', { alias: 'y', type: 'boolean', describe: 'allow bootstrap (disk wipe) of bare hosts without a prompt' })
        .option('force', { type: 'boolean', describe: 'redeploy hosts that already run the built system' })
        .option('fail-fast', { type: 'boolean', describe: 'start no new host after one fails' })
        .option('keep-going', { type: 'boolean', describe: 'hosts fail alone (the default)' })
        .option('dry-run', { type: 'boolean', describe: 'print the plan and run nothing (same as fleet plan)' })
        .option('eval-limit', EVAL_LIMIT_OPTION)
        .option('eval-jobs', EVAL_JOBS_OPTION)
        .option('eval-cache', EVAL_CACHE_OPTION)
        .option('impure', IMPURE_OPTION)
        .option('lock-timeout', { type: 'number', describe: 'seconds to wait for another run\'s deploy lock on a host (default 30)' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('verbose', VERBOSE_OPTION)
        .option('rebuild-flavour', REBUILD_FLAVOUR_OPTION)
        .option('specialisation', SPECIALISATION_OPTION)
        .option('diff', DIFF_OPTION)
        .option('confirm', CONFIRM_OPTION)
        .option('retry-failed', {
          type: 'string',
          describe: 'deploy exactly the hosts that did not end changed/unchanged in the last run (.fleet/last-run.json beside the manifest), or in the report FILE',
        })
        .conflicts('fail-fast', 'keep-going'),
    handler: (args) =>
      done(
        (async () => {
          const context = contextArgsFrom(args);
          if (args['retry-failed'] !== undefined) {
            const { describeRetry, planRetry, retrySelection } = await import('../retry-failed.js');
            const retry = planRetry({ file: args.file, report: args['retry-failed'], selection: context.selection });
            if ('nothing' in retry) {
              // --json keeps stdout for JSON: the sentence goes to stderr there.
              if (args.json) process.stderr.write(`fleet: ${retry.nothing}\n`);
              return { exitCode: 0, stdout: args.json ? [] : [`fleet: ${retry.nothing}`] };
            }
            process.stderr.write(`fleet: ${describeRetry(retry)}\n`);
            context.selection = retrySelection(retry);
          }
          if (args['dry-run']) {
            const { renderPlan } = await import('./plan.js');
            return renderPlan(args, context.selection);
          }
          const { applyPlan } = await import('../apply-run.js');
          return applyPlan(context, { json: args.json ?? false, plain: args.plain ?? false, verbose: args.verbose ?? false, reportFile: args.report });
        })(),
      ),
  };
}
