// `fleet plan`: print the plan `fleet apply` would run, human or --json; touches no host.
import type { CommandModule } from 'yargs';
import { modeOverrideFrom, nonNegativeSeconds, parallelFrom, positiveCount, positiveSeconds, rolloutFrom, selectionFrom, specialisationFrom, type CommonArgs, type RolloutArgs } from '../options.js';
import { withClosureFlags, withHostSelection, withModes, withRollout, withSudoPassword } from '../shared-flags.js';
import type { CommandResult } from '../result.js';
import type { StepSelection } from '../apply-run.js';
import type { DiffUse, Selection } from '../../plan/index.js';

export interface PlanArgs extends CommonArgs, RolloutArgs {
  'eval-limit'?: number;
  'eval-jobs'?: number;
  force?: boolean;
  yes?: boolean;
  'fail-fast'?: boolean;
  'lock-timeout'?: number;
  'rebuild-flavour'?: 'auto' | 'ng' | 'bash';
  /** --specialisation NAME: activate that specialisation of every selected host (switch, test). */
  specialisation?: string;
  /** apply --diff: each host's diff before it activates. */
  diff?: boolean;
  /** apply --confirm: every host's diff, then one question before any host activates. */
  confirm?: boolean;
  /** false: --no-eval-cache. */
  'eval-cache'?: boolean;
  impure?: boolean;
  /** false with --no-substitutes. */
  substitutes?: boolean;
  'keep-result'?: boolean;
  'ask-sudo-password'?: boolean;
  /** --for reboot: seconds each host has to come back with a new boot id (fleet reboot's --wait-timeout). */
  'wait-timeout'?: number;
}

/** Plans of the single-step commands, for `fleet plan --for`. */
export const STEP_SCOPES = {
  apply: {},
  'push-keys': { steps: ['push-keys'], forceKeyPush: true },
  'push-secrets': { steps: ['secrets'] },
  bootstrap: { steps: ['push-keys', 'bootstrap'] },
  build: { buildOnly: true },
  diff: { steps: ['diff'] },
} as const satisfies Record<string, StepSelection>;

/** How the diff is used: --confirm wins over --diff; `fleet diff` (and `fleet plan --for diff`) only reports it. */
export function diffUseFrom(args: Pick<PlanArgs, 'diff' | 'confirm'>, command?: keyof typeof STEP_SCOPES): DiffUse | undefined {
  if (command === 'diff') return 'report';
  return args.confirm ? 'confirm' : args.diff ? 'show' : undefined;
}

/** The plan-shaping flags, shared with apply. */
export function contextArgsFrom(args: PlanArgs) {
  return {
    file: args.file,
    selection: selectionFrom(args),
    modeOverride: modeOverrideFrom(args),
    parallel: parallelFrom(args.parallel),
    evalLimit: positiveCount('eval-limit', args['eval-limit']),
    evalJobs: positiveCount('eval-jobs', args['eval-jobs']),
    force: args.force ?? false,
    failFast: args['fail-fast'] ?? false,
    allowBootstrap: args.yes ?? false,
    lockTimeout: nonNegativeSeconds('lock-timeout', args['lock-timeout']),
    rollout: rolloutFrom(args),
    ...(args['rebuild-flavour'] ? { rebuildFlavour: args['rebuild-flavour'] } : {}),
    ...(args.specialisation !== undefined ? { specialisation: specialisationFrom(args.specialisation) } : {}),
    ...(diffUseFrom(args) ? { diff: diffUseFrom(args) } : {}),
    ...evaluationFrom(args),
    ...(args.substitutes === false ? { substitutes: false } : {}),
    ...(args['keep-result'] ? { keepResult: true } : {}),
    ...(args['ask-sudo-password'] ? { askSudoPassword: true } : {}),
  };
}

/** --no-eval-cache and --impure, as the context takes them. */
export function evaluationFrom(args: Pick<PlanArgs, 'eval-cache' | 'impure'>): { evalCache?: false; impure?: true } {
  return { ...(args['eval-cache'] === false ? { evalCache: false as const } : {}), ...(args.impure ? { impure: true as const } : {}) };
}

/** --no-eval-cache and --impure, for every command that evaluates the hosts' systems. */
export const EVAL_CACHE_OPTION = {
  type: 'boolean',
  describe: "look each host's evaluation up in fleet's evaluation cache and keep it there (default); --no-eval-cache evaluates every host and keeps nothing",
} as const;
export const IMPURE_OPTION = {
  type: 'boolean',
  describe: 'evaluate with nix --impure (the configurations may read the environment and files outside the flake); never cached',
} as const;

/** --diff and --confirm, for apply (and fleet plan, to show what they add). */
export const DIFF_OPTION = { type: 'boolean', describe: "print each host's package diff (what its deploy changes) before it activates" } as const;
export const CONFIRM_OPTION = {
  type: 'boolean',
  describe: "build and copy every host, show every host's diff, then ask once before activating any (needs a terminal)",
} as const;

/** --eval-limit and --eval-jobs: how the build stage is cut and how many evaluators run at once. */
export const EVAL_LIMIT_OPTION = {
  type: 'number',
  describe: 'hosts per evaluator (default: free memory / 512 MiB, cut so that every evaluator has a chunk)',
} as const;
export const EVAL_JOBS_OPTION = { type: 'number', describe: 'evaluators at once (default: the number of cores)' } as const;

/** --rebuild-flavour, for every command that deploys. */
export const REBUILD_FLAVOUR_OPTION = {
  choices: ['auto', 'ng', 'bash'] as const,
  describe: 'which nixos-rebuild activates: ng (--store-path), bash (fleet runs its target sequence itself), auto (ask it); overrides rebuildFlavour',
};

/** --specialisation, for apply and plan (nixos-rebuild's --specialisation/-c, nh's -s). */
export const SPECIALISATION_OPTION = {
  type: 'string',
  describe: "activate <system>/specialisation/NAME of every selected host in switch and test mode (the system stays the boot default); overrides the manifest's specialisation",
} as const;
/** The operating commands whose plan `fleet plan --for` prints too (their commands, host by host). */
export const OPERATE_PLANS = ['rollback', 'reboot', 'check'] as const;

/** What `fleet plan --for` accepts. */
export type PlanFor = keyof typeof STEP_SCOPES | (typeof OPERATE_PLANS)[number];

/** The plan the operating commands start from: the selected hosts as they reach them (nothing is activated through nixos-rebuild). */
async function operatePlan(args: PlanArgs) {
  const { planFromArgs } = await import('../context.js');
  const { plan } = await planFromArgs({
    file: args.file,
    selection: selectionFrom(args),
    parallel: parallelFrom(args.parallel),
    activates: false,
    ...(args['ask-sudo-password'] ? { askSudoPassword: true } : {}),
  });
  return plan;
}

/** `fleet plan --for rollback [--boot]`: what `fleet rollback` runs on each selected host. */
async function renderRollbackPlan(args: PlanArgs): Promise<CommandResult> {
  const { hostname, userInfo } = await import('node:os');
  const { fleetRollbackPlan } = await import('../../plan/index.js');
  const plan = await operatePlan(args);
  const action = modeOverrideFrom(args) === 'boot' ? 'boot' : 'switch';
  const lockWait = nonNegativeSeconds('lock-timeout', args['lock-timeout']) ?? 30;
  const hosts = plan.hosts.map((host) => fleetRollbackPlan(host, action, lockWait, `${userInfo().username}@${hostname()}`));
  if (args.json) return { exitCode: 0, stdout: [JSON.stringify({ command: 'rollback', action, hosts }, null, 2)] };
  const { formatRollbackPlan } = await import('../../ui/format-plan.js');
  return { exitCode: 0, stdout: formatRollbackPlan(action, hosts) };
}

/** `fleet plan --for reboot [--wait-timeout N]`: what `fleet reboot` runs on each selected host. */
async function renderRebootPlan(args: PlanArgs): Promise<CommandResult> {
  const { fleetRebootPlan } = await import('../../plan/index.js');
  const { OPERATE_DEFAULTS } = await import('../../run/index.js');
  const waitSeconds = positiveSeconds('wait-timeout', args['wait-timeout']) ?? OPERATE_DEFAULTS.rebootWaitSeconds;
  const plan = await operatePlan(args);
  const hosts = plan.hosts.map((host) => fleetRebootPlan(host, waitSeconds));
  if (args.json) return { exitCode: 0, stdout: [JSON.stringify({ command: 'reboot', waitSeconds, hosts }, null, 2)] };
  const { formatRebootPlan } = await import('../../ui/format-operate.js');
  return { exitCode: 0, stdout: formatRebootPlan(hosts) };
}

/** `fleet plan --for check`: what `fleet check` runs on each selected host. */
async function renderCheckPlan(args: PlanArgs): Promise<CommandResult> {
  const { fleetCheckPlan } = await import('../../plan/index.js');
  const plan = await operatePlan(args);
  const hosts = plan.hosts.map((host) => fleetCheckPlan(host));
  if (args.json) return { exitCode: 0, stdout: [JSON.stringify({ command: 'check', hosts }, null, 2)] };
  const { formatCheckPlan } = await import('../../ui/format-operate.js');
  return { exitCode: 0, stdout: formatCheckPlan(hosts) };
}

/** Prints a plan as the human tree or JSON. */
export async function renderPlan(args: PlanArgs & { for?: PlanFor }, selection?: Selection): Promise<CommandResult> {
  if (args['wait-timeout'] !== undefined && args.for !== 'reboot') {
    const { UsageError } = await import('../../errors.js');
    throw new UsageError('--wait-timeout belongs to --for reboot (how long each host has to come back)', 'add --for reboot, or leave --wait-timeout out');
  }
  if (args.for === 'rollback') return renderRollbackPlan(args);
  if (args.for === 'reboot') return renderRebootPlan(args);
  if (args.for === 'check') return renderCheckPlan(args);
  const { planFromArgs } = await import('../context.js');
  const command = args.for ?? 'apply';
  const diff = diffUseFrom(args, command);
  const context = contextArgsFrom(args);
  const { plan } = await planFromArgs({ ...context, ...(selection ? { selection } : {}), scope: STEP_SCOPES[command] as StepSelection, ...(diff ? { diff } : {}) });
  if (args.json) return { exitCode: 0, stdout: [JSON.stringify(plan, null, 2)] };
  const { formatPlan } = await import('../../ui/format-plan.js');
  return { exitCode: 0, stdout: formatPlan(plan) };
}

export function planCommand(done: (r: Promise<CommandResult>) => void): CommandModule<object, PlanArgs & { for?: PlanFor }> {
  return {
    command: 'plan [hosts..]',
    describe: 'show what `fleet apply` would run, without touching any host',
    builder: (y) =>
      withSudoPassword(withClosureFlags(withRollout(withModes(withHostSelection(y)))))
        .option('json', { type: 'boolean', describe: 'print the plan as JSON' })
        .option('eval-limit', EVAL_LIMIT_OPTION)
        .option('eval-jobs', EVAL_JOBS_OPTION)
        .option('eval-cache', EVAL_CACHE_OPTION)
        .option('impure', IMPURE_OPTION)
        .option('force', { type: 'boolean', describe: 'plan to redeploy even unchanged hosts' })
        .option('lock-timeout', { type: 'number', describe: 'seconds to wait for another run\'s deploy lock on a host (default 30)' })
        .option('rebuild-flavour', REBUILD_FLAVOUR_OPTION)
        .option('specialisation', SPECIALISATION_OPTION)
        .option('diff', DIFF_OPTION)
        .option('confirm', CONFIRM_OPTION)
        .option('wait-timeout', { type: 'number', describe: 'with --for reboot: seconds each host has to come back with a new boot id (default 300)' })
        .option('for', { choices: [...Object.keys(STEP_SCOPES), ...OPERATE_PLANS] as PlanFor[], describe: 'the plan of this command (default apply)' }),
    handler: (args) => done(renderPlan(args)),
  };
}
