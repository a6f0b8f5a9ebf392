// `fleet push-keys`, `fleet push-secrets`, `fleet bootstrap`, `fleet build`: single steps of apply, with apply's guards and reports.
import type { CommandModule } from 'yargs';
import { VERBOSE_OPTION, withFile, withHostSelection, withOutput, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';
import { contextArgsFrom, EVAL_CACHE_OPTION, EVAL_JOBS_OPTION, EVAL_LIMIT_OPTION, IMPURE_OPTION, STEP_SCOPES, type PlanArgs } from './plan.js';
import type { StepSelection } from '../apply-run.js';

interface StepArgs extends PlanArgs {
  plain?: boolean;
  verbose?: boolean;
  report?: string;
}

function run(args: StepArgs, steps: StepSelection): Promise<CommandResult> {
  return (async () => {
    const { applyPlan } = await import('../apply-run.js');
    return applyPlan(contextArgsFrom(args), { json: args.json ?? false, plain: args.plain ?? false, verbose: args.verbose ?? false, reportFile: args.report }, steps);
  })();
}

export function pushKeysCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, StepArgs> {
  return {
    command: 'push-keys [hosts..]',
    describe: "push each host's keys (key policy) when missing or different on the target, whatever keys.push says (except never)",
    builder: (y) =>
      withSudoPassword(withOutput(withHostSelection(y)))
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('verbose', VERBOSE_OPTION),
    handler: (args) => done(run(args, STEP_SCOPES['push-keys'])),
  };
}

export function pushSecretsCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, StepArgs> {
  return {
    command: 'push-secrets [hosts..]',
    describe: "upload each host's secrets that are missing or different on the target (e.g. after a reboot emptied /run/keys); builds and activates nothing",
    builder: (y) =>
      withSudoPassword(withOutput(withHostSelection(y)))
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('verbose', VERBOSE_OPTION),
    handler: (args) => done(run(args, STEP_SCOPES['push-secrets'])),
  };
}

export function bootstrapCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, StepArgs & { host?: string }> {
  return {
    command: 'bootstrap <host>',
    describe: 'install NixOS on a bare host with nixos-anywhere (only if the probe proves it is not NixOS)',
    builder: (y) =>
      withSudoPassword(withOutput(withFile(y)))
        .positional('host', { type: 'string', demandOption: true, describe: 'a host with bootstrap options' })
        .option('yes', { alias: 'y', type: 'boolean', describe: 'allow the disk wipe without a prompt' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('verbose', VERBOSE_OPTION),
    handler: (args) => done(run({ ...args, hosts: [args.host as string], only: undefined, tag: undefined }, STEP_SCOPES.bootstrap)),
  };
}

export function buildCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, StepArgs> {
  return {
    command: 'build [hosts..]',
    describe: "build the selected hosts' systems (the build stage of apply); touches no host",
    builder: (y) =>
      withOutput(withHostSelection(y))
        .option('eval-limit', EVAL_LIMIT_OPTION)
        .option('eval-jobs', EVAL_JOBS_OPTION)
        .option('eval-cache', EVAL_CACHE_OPTION)
        .option('impure', IMPURE_OPTION)
        .option('keep-result', { type: 'boolean', describe: 'keep a GC root of each built system in .fleet/gcroots/<host> beside the manifest' })
        .option('plain', { type: 'boolean', describe: 'plain line output even on a terminal' })
        .option('verbose', VERBOSE_OPTION),
    handler: (args) => done(run(args, STEP_SCOPES.build)),
  };
}
