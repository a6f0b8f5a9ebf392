// buildPlan: inventory + options → Plan. Pure: no I/O, no clock, no environment.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Endpoint, Escalation, HostSpec, Inventory, JumpSpec, Mode } from '../manifest/inventory.js';
import { jumpConfigFile, type JumpSettings, type SshSettings } from '../ssh/index.js';
import {
  activateCommand,
  appendHistoryCommand,
  armedActivateCommand,
  armWatchdogCommand,
  buildAttributes,
  confirmWatchdogCommand,
  derivationSuffixFor,
  nixEvalCommand,
  cachePushCommand,
  copyClosureCommand,
  copyDerivationsCommand,
  keepResultCommand,
  rootCachedCommand,
  realiseOnTargetCommand,
  signClosureCommand,
  uploadSizesCommand,
  diffCommand,
  keygenCommand,
  lockCommand,
  nixBuildCommand,
  nixosAnywhereCommand,
  probeCommand,
  rebuildCanEscalate,
  pushKeysCommand,
  pushSecretsCommand,
  specialisationCommand,
} from './commands.js';
import { healthCheckCommand } from './operate-scripts.js';
import { HISTORY_FILE } from './remote-scripts.js';
import { selectHosts, type Selection } from './selection.js';
import { inRolloutOrder, planRollout, type RolloutOptions } from './rollout.js';
import { rollbackCommands } from './rollback-commands.js';
import type { BootstrapStep, BuildAttribute, BuildChunk, CachedHost, CachePush, DeployStep, EvalCacheState, DiffUse, HostPlan, Plan, PlannedKeys, Provenance, PushKeysStep, RebuildFlavour, RunPaths, SecretsStep, StepScope } from './types.js';
import { STEP_ORDER } from './types.js';
import { FRESH_CONNECTION } from '../ssh/argv.js';
import { UsageError } from '../errors.js';

/** What the command line adds to the manifest for one run. */
export interface PlanOptions {
  selection: Selection;
  /** --switch/--boot/--test/--dry-activate for every selected host. */
  modeOverride?: Mode;
  /** --specialisation for every selected host (switch and test). */
  specialisationOverride?: string;
  /** --parallel; overrides the manifest. */
  parallel?: number;
  /** Hosts per evaluator at most (from --eval-limit, the manifest, or free memory). */
  evalLimit: number;
  /**
   * Where evalLimit came from: `given` (--eval-limit, the manifest) is taken as is; `memory` is
   * only an upper bound, and with at least as many hosts as evalJobs the hosts are cut into at
   * least evalJobs chunks, so that every evaluator has one.
   */
  evalLimitSource: 'given' | 'memory';
  /** Evaluators at once (--eval-jobs, the manifest, else the number of cores). */
  evalJobs: number;
  /** With a limit from memory: each evaluator's share of free memory, in MiB. */
  evaluatorMemoryMiB?: number;
  force: boolean;
  failFast: boolean;
  allowBootstrap: boolean;
  paths: RunPaths;
  rebuildFlavour: RebuildFlavour;
  /** Why that flavour, in one line (see Plan.rebuildFlavourChoice). */
  rebuildFlavourChoice?: string;
  /** `nix --version` of this machine ('' when unknown). */
  nixVersion: string;
  /** fleet runs as root (a local target then needs no sudo). */
  localRoot: boolean;
  /** --ask-sudo-password: every selected host that escalates with sudo takes the run's password. */
  askSudoPassword?: boolean;
  /** Seconds for ssh ConnectTimeout. */
  connectTimeout: number;
  /** Seconds to wait for another run's deploy lock on a host. */
  lockTimeout: number;
  /** Who runs this, for the lock's "locked by" message, e.g. `alice@laptop`. */
  operator: string;
  /** What the deploy history records (default: the operator, no CI, revision unknown). */
  provenance?: Provenance;
  /** Which steps run (default: all of apply). */
  scope?: Partial<StepScope>;
  /** Compare each host's live system with the built one first (fleet diff, apply --diff/--confirm). */
  diff?: DiffUse;
  /** --canary, --waves, --pause, --on-failure, --no-rollout: override the manifest's rollout. */
  rollout?: RolloutOptions;
  /** --impure: the evaluators may read the environment and files outside the flake. */
  impure?: boolean;
  /**
   * What the evaluation cache answered when the run was resolved (absent: it was not asked): the
   * hosts it answers are not evaluated, the others are evaluated from `evalFlake`.
   */
  evalCache?: { state: EvalCacheState; evalFlake?: string; hits: CachedHost[] };
  /** --no-substitutes (false): no host substitutes during its copies, whatever the manifest says. */
  substitutes?: boolean;
  /** --keep-result: keep a GC root of each built system after the run. */
  keepResult?: boolean;
}

/** Where per-run files go for a manifest; `runtimeBase` is e.g. /tmp, `stateDir` beside the manifest. */
export function runPathsFor(manifestPath: string, runtimeBase: string): RunPaths {
  const id = createHash('sha256').update(manifestPath).digest('hex').slice(0, 10);
  const stateDir = posix.join(posix.dirname(manifestPath), '.fleet');
  const runtimeDir = posix.join(runtimeBase, `fleet-${id}`);
  return {
    stateDir,
    knownHosts: posix.join(runtimeDir, 'known_hosts'),
    tofuKnownHosts: posix.join(stateDir, 'known_hosts.tofu'),
    runtimeDir,
  };
}

/** What fleet counts one host's evaluation to take: 512 MiB. */
export const EVAL_MIB_PER_HOST = 512;

/** The free memory each of `evaluators` evaluators running at once may take, in MiB. */
export function evaluatorMemoryMiB(freeBytes: number, evaluators: number): number {
  return Math.floor(freeBytes / (1024 * 1024) / Math.max(1, evaluators));
}

/**
 * Default hosts per evaluator: its share of free memory (the evaluators run at once) at 512 MiB a
 * host, at least one.
 */
export function evalLimitFromMemory(freeBytes: number, evaluators = 1): number {
  return Math.max(1, Math.floor(evaluatorMemoryMiB(freeBytes, evaluators) / EVAL_MIB_PER_HOST));
}

/**
 * Whether fleet knows a host's key itself: pinned in the manifest, or the host key its key policy
 * pushes. Such hosts are checked against fleet's own known_hosts only; any other host (no TOFU)
 * against the user's own known_hosts files, as plain ssh would, and just as strictly.
 */
export function hasPinnedKey(spec: Pick<HostSpec, 'hostKeys' | 'keys'>): boolean {
  return spec.hostKeys.length > 0 || Boolean(spec.keys && (spec.keys.hostKeyFile || spec.keys.hostKeySearch.length > 0));
}

/** How fleet reaches a host over ssh, from its spec and the run's paths. */
export function sshSettingsFor(
  spec: { target: Endpoint; identityFile?: string; trustOnFirstUse: boolean; pinned: boolean; escalation?: Escalation; jump?: JumpSpec },
  inventory: Pick<Inventory, 'sshOptions'>,
  paths: RunPaths,
  connectTimeout: number,
): SshSettings | undefined {
  if (spec.target.kind !== 'ssh') return undefined;
  return {
    endpoint: spec.target,
    identityFile: spec.identityFile,
    knownHostsFiles: spec.trustOnFirstUse ? [paths.tofuKnownHosts] : spec.pinned ? [paths.knownHosts] : [],
    trustOnFirstUse: spec.trustOnFirstUse,
    controlDir: paths.runtimeDir,
    extraOptions: inventory.sshOptions,
    connectTimeout,
    ...(spec.escalation ? { escalation: spec.escalation } : {}),
    ...(spec.jump ? { jump: jumpSettingsFor({ ...spec.jump, identityFile: spec.jump.identityFile ?? spec.identityFile }, paths, connectTimeout) } : {}),
  };
}

/** How fleet reaches a jump host: its pinned keys in fleet's known_hosts, its config in the run's directory. */
function jumpSettingsFor(jump: JumpSpec, paths: RunPaths, connectTimeout: number): JumpSettings {
  const settings = {
    endpoint: jump.endpoint,
    ...(jump.identityFile !== undefined ? { identityFile: jump.identityFile } : {}),
    hostKeys: jump.hostKeys,
    knownHostsFiles: jump.hostKeys.length > 0 ? [paths.knownHosts] : [],
  };
  return { ...settings, configFile: jumpConfigFile(paths.runtimeDir, settings, connectTimeout) };
}

/**
 * How the host's privileged commands become root, with --ask-sudo-password applied (to the hosts
 * that escalate with sudo: doas, run0 and the user's own words never take a password); undefined
 * where they need not (root over ssh, a local target when fleet is root).
 */
export function escalationFor(spec: Pick<HostSpec, 'target' | 'escalation'>, options: Pick<PlanOptions, 'localRoot' | 'askSudoPassword'>): Escalation | undefined {
  const escalates = spec.target.kind === 'ssh' ? spec.target.user !== 'root' : !options.localRoot;
  if (!escalates) return undefined;
  const askPassword = spec.escalation.askPassword || (options.askSudoPassword === true && spec.escalation.method === 'sudo');
  return { method: spec.escalation.method, askPassword };
}

function plannedKeys(spec: HostSpec): PlannedKeys | undefined {
  const policy = spec.keys;
  if (!policy) return undefined;
  const candidates = policy.hostKeyFile
    ? [policy.hostKeyFile]
    : policy.hostKeySearch.map((dir) => posix.join(dir, spec.name, 'ssh_host_ed25519_key'));
  const keys: PlannedKeys = { push: policy.push, destination: policy.destination, hostKeyCandidates: candidates };
  if (policy.generate && candidates[0] !== undefined) keys.generateAt = candidates[0];
  if (policy.agenixKeyFile) keys.agenixKey = { source: policy.agenixKeyFile, name: policy.agenixKeyName };
  return keys;
}

/** Names of the key files on the target, for the probe's comparison. */
export function keyFileNames(keys: PlannedKeys | undefined): string[] {
  if (!keys) return [];
  const names = keys.hostKeyCandidates.length > 0 ? ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub'] : [];
  if (keys.agenixKey) names.push(keys.agenixKey.name);
  return names;
}

function pushKeysStep(spec: HostSpec, ssh: SshSettings | undefined, keys: PlannedKeys | undefined): HostPlan['pushKeys'] {
  if (!keys) return { kind: 'push-keys', never: 'no key policy' };
  if (keys.push === 'never') return { kind: 'push-keys', never: 'keys.push: never' };
  const when = keys.push === 'always' ? 'when the keys on the target are missing or differ' : 'only before a bootstrap';
  const bootstrapNote = spec.bootstrap ? '; before a bootstrap they go to nixos-anywhere --extra-files instead' : '';
  const step: PushKeysStep = {
    kind: 'push-keys',
    guard: `${when} (keys.push: ${keys.push})${keys.generateAt ? '; a missing host key is generated first' : ''}${bootstrapNote}`,
    keys,
    push: pushKeysCommand(ssh, keys.destination),
    pinPushedKey: spec.target.kind === 'ssh',
  };
  if (keys.generateAt) step.generate = keygenCommand(keys.generateAt, spec.name);
  return step;
}

function bootstrapStep(spec: HostSpec, ssh: SshSettings | undefined, keys: PlannedKeys | undefined, options: PlanOptions, inventory: Inventory): HostPlan['bootstrap'] {
  if (!spec.bootstrap) return { kind: 'bootstrap', never: 'no bootstrap options' };
  if (spec.target.kind !== 'ssh' || !ssh) return { kind: 'bootstrap', never: 'a local target is never bootstrapped' };
  const staging = keys || spec.bootstrap.extraFiles ? posix.join(options.paths.runtimeDir, `bootstrap-${spec.name}`) : undefined;
  const step: BootstrapStep = {
    kind: 'bootstrap',
    guard:
      'only if the probe proves the target is not NixOS (no /etc/NIXOS, no /run/current-system), ' +
      'and with consent (--yes, or a prompt on a terminal); then wait for the installed system to answer',
    options: spec.bootstrap,
    install: nixosAnywhereCommand({ commands: inventory.commands, target: spec.target, ssh, bootstrap: spec.bootstrap, extraFilesDir: staging, substitutes: substitutesFor(spec, options) }),
    waitForInstalled: probeCommand(ssh, { closure: false, keyDir: keys?.destination ?? '/etc/ssh', keyNames: [] }, FRESH_CONNECTION, 'wait for the installed system'),
    waitSeconds: spec.bootstrap.noReboot ? 0 : spec.bootstrap.waitTimeout,
  };
  if (staging) step.staging = staging;
  return step;
}

/** Where a secret is read, for people: never its content. */
export function describeSecretSource(source: HostSpec['secrets'][number]['source']): string {
  if (source.kind === 'command') return `command ${source.argv.join(' ')}`;
  if (source.kind === 'file') return `file ${source.path}`;
  return `env ${source.name}`;
}

function secretsStep(spec: HostSpec, mode: Mode, ssh: SshSettings | undefined, options: PlanOptions, escalation: Escalation | undefined): HostPlan['secrets'] {
  if (spec.secrets.length === 0) return { kind: 'secrets', never: 'no secrets' };
  const before = spec.secrets.filter((s) => s.upload === 'before-activation');
  const after = spec.secrets.filter((s) => s.upload === 'after-activation');
  const uploads = mode !== 'dry-activate';
  const step: SecretsStep = {
    kind: 'secrets',
    guard:
      'sources read on this machine once per run, before anything on the host changes (a failing source fails the host); ' +
      (uploads
        ? 'only files missing or different on the target (keyed digest, owner, group, mode) are uploaded' +
          (before.length > 0 ? `; ${before.length} before activation` : '') +
          (after.length > 0 ? `; ${after.length} after activation and verification` : '')
        : 'dry-activate: compared only, nothing is uploaded'),
    secrets: spec.secrets,
    uploads,
  };
  if (before.length > 0) step.beforeActivation = { secrets: before, push: pushSecretsCommand(ssh, before, options.localRoot, 'before activation', escalation) };
  if (after.length > 0) step.afterActivation = { secrets: after, push: pushSecretsCommand(ssh, after, options.localRoot, 'after activation', escalation) };
  return step;
}

const DIFF_USE_WORDS: Record<DiffUse, string> = {
  report: 'nothing is activated (fleet diff)',
  show: 'the diff is shown before this host goes on (--diff)',
  confirm: 'no host goes on until every host\'s diff is shown and one question is answered yes (--confirm)',
};

/** Whether a host's target substitutes during its copies: the manifest's `substitutes`, unless --no-substitutes. */
function substitutesFor(spec: HostSpec, options: PlanOptions): boolean {
  return spec.substitutes && options.substitutes !== false;
}

/** The closure copy to an ssh target whose system is built here (one built on its target is there already). */
function closureCopy(spec: HostSpec, ssh: SshSettings | undefined, options: PlanOptions, inventory: Inventory) {
  return ssh && !spec.buildOnTarget ? copyClosureCommand(inventory.commands, ssh, substitutesFor(spec, options), options.nixVersion) : undefined;
}

function diffStep(spec: HostSpec, ssh: SshSettings | undefined, options: PlanOptions, inventory: Inventory): HostPlan['diff'] {
  if (!options.diff) return { kind: 'diff', never: 'not asked (fleet diff, apply --diff or --confirm)' };
  const step: HostPlan['diff'] = {
    kind: 'diff',
    guard:
      'before anything on the target changes: the closure is copied (unless it is there already), then the target lists ' +
      'the closures of the system it runs and of <toplevel> and fleet compares them by package; "no changes" when it already ' +
      `runs <toplevel>, nothing to compare when it is not NixOS yet; ${DIFF_USE_WORDS[options.diff]}`,
    use: options.diff,
    compare: diffCommand(ssh),
    copyTimeoutSeconds: inventory.copyTimeout,
  };
  const copy = closureCopy(spec, ssh, options, inventory);
  if (copy) step.copy = copy;
  return step;
}

/**
 * The flavour a host is activated with: the run's, except that a host whose escalation
 * nixos-rebuild-ng cannot do itself (doas, run0, words of the user's own, a password) is activated
 * by fleet, as the bash flavour is, through that escalation.
 */
export function hostFlavour(escalation: Escalation | undefined, options: Pick<PlanOptions, 'rebuildFlavour'>): PlanOptions['rebuildFlavour'] {
  return escalation && !rebuildCanEscalate(escalation) ? 'bash' : options.rebuildFlavour;
}

/**
 * The specialisation a mode activates: switch and test only. nixos-rebuild refuses --specialisation
 * with boot (and dry-activate): the boot default is the system itself, whose boot entries hold its
 * specialisations.
 */
export function liveSpecialisation(mode: Mode, name: string | undefined): string | undefined {
  return mode === 'switch' || mode === 'test' ? name : undefined;
}

function activation(
  spec: HostSpec,
  mode: Mode,
  ssh: SshSettings | undefined,
  options: PlanOptions,
  inventory: Inventory,
  escalation: Escalation | undefined,
  specialisation: string | undefined,
): DeployStep['activation'] {
  const flavour = hostFlavour(escalation, options);
  const activate = activateCommand({
    commands: inventory.commands,
    flavour,
    mode,
    target: spec.target,
    ssh,
    localRoot: options.localRoot,
    substitutes: substitutesFor(spec, options),
    ...(escalation ? { escalation } : {}),
    ...(specialisation ? { specialisation } : {}),
  });
  const probe = (overrides: string[], purpose: string) => probeCommand(ssh, { closure: false, keyDir: '/etc/ssh', keyNames: [] }, overrides, purpose);
  const live = mode === 'switch' || mode === 'test';
  if (live && ssh && spec.rollback.enabled) {
    const watch = {
      kind: 'watched' as const,
      confirm: confirmWatchdogCommand(ssh),
      afterDeadline: probe(FRESH_CONNECTION, 'see whether the target rolled back'),
      timeoutSeconds: spec.rollback.timeout,
    };
    // The bash flavour's activation is fleet's own script on the target: it arms the watchdog in
    // the same session (one session less per host). nixos-rebuild-ng activates from here.
    return flavour === 'bash'
      ? { ...watch, arm: 'in-activate', activate: armedActivateCommand(ssh, spec.rollback.timeout, mode, specialisation) }
      : { ...watch, arm: armWatchdogCommand(ssh, spec.rollback.timeout, mode), activate };
  }
  if (mode === 'dry-activate') return { kind: 'plain', activate, unwatched: 'dry-activate changes nothing' };
  if (mode === 'boot') {
    // Nothing live changed: the shared connection is proof enough of the boot default.
    return { kind: 'plain', activate, unwatched: 'boot changes nothing live', check: { command: probe([], 'verify'), fresh: false } };
  }
  if (!ssh) return { kind: 'plain', activate, unwatched: 'a local target', check: { command: probe([], 'verify'), fresh: false } };
  return { kind: 'plain', activate, unwatched: 'rollback disabled', check: { command: probe(FRESH_CONNECTION, 'verify'), fresh: true } };
}

function hostPlan(spec: HostSpec, inventory: Inventory, options: PlanOptions, lockEarly: boolean): HostPlan {
  const mode = options.modeOverride ?? spec.mode;
  const keys = plannedKeys(spec);
  // A sudo password crosses every privileged command's connection (never an argv).
  const escalation = escalationFor(spec, options);
  const { escalation: _manifest, ...reach } = spec;
  const ssh: SshSettings | undefined = sshSettingsFor({ ...reach, pinned: hasPinnedKey(spec), ...(escalation ? { escalation } : {}) }, inventory, options.paths, options.connectTimeout);
  const firstProbe = {
    closure: needsSystems(options.scope),
    keyDir: keys?.destination ?? '/etc/ssh',
    keyNames: keyFileNames(keys),
    secrets: spec.secrets.map((s) => s.destination),
  };

  const wantedSpecialisation = options.specialisationOverride ?? spec.specialisation;
  const specialisation = liveSpecialisation(mode, wantedSpecialisation);
  const act = activation(spec, mode, ssh, options, inventory, escalation, specialisation);
  const liveOrBoot = specialisation
    ? `${mode === 'test' ? '' : 'its boot default and '}its specialisation ${specialisation} as its live system`
    : mode === 'boot' ? 'its boot default' : mode === 'test' ? 'its live system' : 'its live system and boot default';
  const deploy: DeployStep = {
    kind: 'deploy',
    guard:
      mode === 'dry-activate'
        ? 'always (dry-activate changes nothing)'
        : `skipped when the target already runs <toplevel> as ${liveOrBoot}${options.force ? ' (--force: never skipped)' : ''}; ` +
          (spec.buildOnTarget && ssh
            ? 'the target built <toplevel> itself (buildHost: target): nothing to copy'
            : `the closure is copied before anything is activated, unless it is there already (a copy without progress for ${inventory.copyTimeout}s is killed; 3 tries)` +
              (!ssh ? '' : substitutesFor(spec, options) ? '; the target substitutes what its binary caches have, the rest is uploaded from here' : '; no substitution on the target: all it lacks is uploaded from here') +
              (ssh && inventory.cache ? `; the copy starts once <toplevel> is pushed to the cache ${inventory.cache.push}` : '')) +
          (specialisation
            ? `; specialisation ${specialisation} goes live (<toplevel>/specialisation/${specialisation}, found on the target before anything is armed or activated; <toplevel> stays the boot default)`
            : wantedSpecialisation
              ? `; specialisation ${wantedSpecialisation} is not activated in ${mode} mode: the boot default is <toplevel> itself (as nixos-rebuild, which takes --specialisation with switch and test only)`
              : '') +
          (act.kind === 'watched'
            ? `; the rollback watchdog (${act.timeoutSeconds}s) is armed before activation${act.arm === 'in-activate' ? ', in the activation\'s own call (nothing activates unless it is armed)' : ''}`
            : `; no rollback watchdog (${act.unwatched})`),
    flavour: hostFlavour(escalation, options),
    activation: act,
    tolerateUnitFailures: spec.tolerateUnitFailures,
    copyTimeoutSeconds: inventory.copyTimeout,
    activationTimeoutSeconds: inventory.activationTimeout,
  };
  const copy = closureCopy(spec, ssh, options, inventory);
  if (copy) deploy.copy = copy;
  if (specialisation) deploy.specialisation = { name: specialisation, find: specialisationCommand(ssh, specialisation) };

  const liveShown = specialisation ? `<toplevel>/specialisation/${specialisation}` : '<toplevel>';
  const plannedChecks = spec.healthChecks.map((check) => ({ check, command: { purpose: `health check ${check.name}`, argv: healthCheckCommand(ssh, check) } }));
  let verify: HostPlan['verify'];
  if (mode === 'dry-activate') verify = { kind: 'verify', never: 'dry-activate changes nothing' };
  else {
    // Health checks gate success only where the new system is live (switch, test).
    const healthChecks = mode === 'switch' || mode === 'test' ? spec.healthChecks : [];
    const how =
      act.kind === 'watched'
        ? `one fresh connection (no shared one) confirms the watchdog and shows ${liveShown} as the live system; if ssh is lost, wait for the target to roll back`
        : act.check?.fresh
          ? `a fresh connection (no shared one) shows ${liveShown} as the live system`
          : `the target shows <toplevel> as the ${mode === 'boot' ? 'boot default' : 'live system'}`;
    verify = {
      kind: 'verify',
      guard: `only after an activation: ${how}` + (healthChecks.length > 0 ? `; then the health checks (${healthChecks.map((c) => c.name).join(', ')}) must all pass` : ''),
      healthChecks: plannedChecks.filter((c) => healthChecks.includes(c.check)),
    };
  }

  const plan: HostPlan = {
    name: spec.name,
    mode,
    ...(specialisation ? { specialisation } : {}),
    target: spec.target,
    pinnedKeys: spec.hostKeys,
    substitutes: substitutesFor(spec, options),
    ...(copy ? { uploadSizes: uploadSizesCommand(inventory.commands) } : {}),
    ...(copy && ssh && substitutesFor(spec, options) ? { copyFallback: copyClosureCommand(inventory.commands, ssh, false) } : {}),
    watchdogSeconds: spec.rollback.enabled ? spec.rollback.timeout : null,
    healthChecks: plannedChecks,
    connect: ssh
      ? {
          kind: 'lock-and-probe',
          early: lockEarly,
          // An early session starts before <toplevel> is known: the closure is asked later.
          command: lockCommand(ssh, options.lockTimeout, options.operator, { ...firstProbe, closure: firstProbe.closure && !lockEarly }),
          closure: firstProbe.closure && !lockEarly ? 'probe' : 'ask',
          waitSeconds: options.lockTimeout,
        }
      : { kind: 'probe', command: probeCommand(undefined, firstProbe) },
    diff: diffStep(spec, ssh, options, inventory),
    pushKeys: pushKeysStep(spec, ssh, keys),
    bootstrap: bootstrapStep(spec, ssh, keys, options, inventory),
    secrets: secretsStep(spec, mode, ssh, options, escalation),
    deploy,
    verify,
    history:
      mode === 'dry-activate'
        ? { kind: 'record-history', never: 'dry-activate changes nothing' }
        : {
            kind: 'record-history',
            guard: `after every activation or install, however it ended: one record (time, operator, revision, system, generation, outcome) appended to ${HISTORY_FILE}; a failed write is a warning, never a failure`,
            file: HISTORY_FILE,
            append: appendHistoryCommand(ssh, options.localRoot, escalation),
            overLockSession: ssh !== undefined,
          },
  };
  if (ssh) plan.ssh = ssh;
  if (escalation) plan.escalation = escalation;
  if (keys) plan.keys = keys;
  return plan;
}

/**
 * Whether a run of this scope needs the hosts' built systems: only its steps that diff, install, deploy
 * or verify one do (`fleet push-secrets` and `fleet push-keys` build nothing).
 */
export function needsSystems(scope: Partial<StepScope> | undefined): boolean {
  if (scope?.buildOnly) return true;
  return (scope?.steps ?? STEP_ORDER).some((step) => step === 'diff' || step === 'bootstrap' || step === 'deploy' || step === 'verify');
}

/**
 * Hosts per chunk: a given limit as is; a limit from free memory is cut down so that, with at
 * least as many hosts as evaluators, every evaluator gets a chunk (one evaluator amortises the
 * shared cost over its hosts; more of them use the cores).
 */
export function chunkSize(hosts: number, options: Pick<PlanOptions, 'evalLimit' | 'evalLimitSource' | 'evalJobs'>): number {
  const limit = Math.max(1, options.evalLimit);
  if (options.evalLimitSource === 'given' || hosts < options.evalJobs) return limit;
  return Math.max(1, Math.min(limit, Math.ceil(hosts / options.evalJobs)));
}

/** Groups build attributes by build host and cuts them into chunks of `size` hosts. */
function buildChunks(inventory: Inventory, hosts: HostSpec[], size: number, options: PlanOptions): BuildChunk[] {
  const byBuildHost = new Map<string, { endpoint: Endpoint; hosts: HostSpec[] }>();
  for (const host of hosts) {
    // Hosts built on their own targets are evaluated together, apart from those built here.
    const key = host.buildOnTarget ? 'target' : host.buildHost.kind === 'local' ? 'local' : `${host.buildHost.user}@${host.buildHost.host}:${host.buildHost.port}`;
    const group = byBuildHost.get(key) ?? { endpoint: host.buildHost, hosts: [] };
    group.hosts.push(host);
    byBuildHost.set(key, group);
  }
  const chunks: BuildChunk[] = [];
  for (const group of byBuildHost.values()) {
    for (let i = 0; i < group.hosts.length; i += size) {
      const slice = group.hosts.slice(i, i + size);
      const attributes: BuildAttribute[] = slice.flatMap((h) => buildAttributes(inventory.flake, h.name, h.bootstrap));
      const endpoint = group.endpoint;
      const builderSpec =
        endpoint.kind === 'ssh'
          ? inventory.hosts.find((h) => h.target.kind === 'ssh' && h.target.host === endpoint.host && h.target.port === endpoint.port)
          : undefined;
      // A build host that is a host of the manifest is reached as that host is; any other with the
      // identity of the hosts it builds for.
      const builderSsh = sshSettingsFor(
        {
          target: endpoint,
          identityFile: builderSpec?.identityFile ?? group.hosts[0]?.identityFile,
          trustOnFirstUse: builderSpec?.trustOnFirstUse ?? false,
          pinned: builderSpec ? hasPinnedKey(builderSpec) : false,
        },
        inventory,
        options.paths,
        options.connectTimeout,
      );
      const targetBuilds = slice.flatMap((h) => {
        const ssh = h.buildOnTarget ? sshSettingsFor({ ...h, pinned: hasPinnedKey(h) }, inventory, options.paths, options.connectTimeout) : undefined;
        return ssh ? [{ host: h.name, copyDerivations: copyDerivationsCommand(inventory.commands, ssh), realise: realiseOnTargetCommand(ssh) }] : [];
      });
      chunks.push({
        attributes,
        buildHost: group.endpoint,
        buildHostKeys: builderSpec?.hostKeys ?? [],
        evaluate: nixEvalCommand(inventory.commands, options.evalCache?.evalFlake ?? inventory.flake, attributes, options.impure),
        build: nixBuildCommand(inventory.commands, group.endpoint, builderSsh),
        ...(targetBuilds.length > 0 ? { targetBuilds } : {}),
      });
    }
  }
  return chunks;
}

/** cache.push as commands: sign (with a key), then push, once per batch of built systems. */
function cachePlan(inventory: Inventory): CachePush {
  const cache = inventory.cache!;
  return {
    url: cache.push,
    ...(cache.signingKey ? { sign: signClosureCommand(inventory.commands, cache.signingKey) } : {}),
    push: cachePushCommand(inventory.commands, cache.push),
  };
}

/** The plan `fleet apply` runs and `fleet plan` prints. */
/** A rollout's rollback of a host whose wave fails (ssh hosts: a local target is not rolled back). */
function withRolloutRollback(host: HostPlan): HostPlan {
  if (!host.ssh || host.mode === 'dry-activate') return host;
  const action = host.mode === 'boot' ? 'boot' : 'switch';
  const guard = 'only when its rollout wave fails and this run changed the host: back to the generation the probe found, under the deploy lock';
  return { ...host, rollback: rollbackCommands(host.ssh, action, host.watchdogSeconds ?? undefined, guard) };
}

export function buildPlan(inventory: Inventory, options: PlanOptions): Plan {
  const hosts = selectHosts(inventory.hosts, options.selection);
  // Hosts the evaluation cache answers are not evaluated: the chunks are cut from the others.
  const cached = (options.evalCache?.hits ?? []).filter((hit) => hosts.some((h) => h.name === hit.host));
  const evaluated = hosts.filter((h) => !cached.some((hit) => hit.host === h.name));
  const size = chunkSize(evaluated.length, options);
  // Only apply deploys in waves; the single-step commands and `fleet build` run every host at once.
  const scope: StepScope = { steps: [...STEP_ORDER], forceKeyPush: false, buildOnly: false, ...options.scope };
  const deploys = !scope.buildOnly && scope.steps.includes('deploy');
  const rollout = deploys ? planRollout(inventory, hosts, options.rollout) : undefined;
  // --confirm asks once, for every host, before any is activated; waves activate one after another.
  if (rollout && options.diff === 'confirm') {
    throw new UsageError('--confirm cannot be combined with a rollout: it asks once before any host is activated, and waves activate one after another', 'use --diff to see each host\'s diff as it goes, fleet diff first, or --no-rollout');
  }
  // The hosts whose lock session starts with the run: the first `parallel` ssh hosts in the order
  // hosts start (all of them with parallel 0). Each held session is an ssh client and three pipes:
  // a few hundred at once would run into the open-file limit, and a host far down the queue gains
  // nothing from locking early.
  const parallel = options.parallel ?? inventory.parallel;
  const lockingEarly = new Set(
    inRolloutOrder(hosts, rollout)
      .filter((h) => h.target.kind === 'ssh' && !h.trustOnFirstUse)
      .slice(0, parallel === 0 ? undefined : parallel)
      .map((h) => h.name),
  );
  return {
    version: 2,
    manifestPath: inventory.manifestPath,
    flake: inventory.flake,
    parallel: options.parallel ?? inventory.parallel,
    force: options.force,
    failFast: options.failFast,
    allowBootstrap: options.allowBootstrap,
    scope,
    paths: options.paths,
    commands: inventory.commands,
    build: {
      evalLimit: size,
      evalJobs: Math.max(1, options.evalJobs),
      ...(options.evalLimitSource === 'memory' && options.evaluatorMemoryMiB !== undefined ? { evaluatorMemoryMiB: options.evaluatorMemoryMiB } : {}),
      derivationSuffix: derivationSuffixFor(options.nixVersion),
      // The first wave's hosts are built first, so that the canary starts as soon as it can.
      chunks: buildChunks(inventory, inRolloutOrder(evaluated, rollout), size, options),
      ...(options.evalCache?.evalFlake ? { evalFlake: options.evalCache.evalFlake } : {}),
      ...(options.impure ? { impure: true } : {}),
      ...(options.evalCache ? { evalCache: options.evalCache.state, cached } : {}),
      results: {
        dir: posix.join(options.paths.runtimeDir, 'results'),
        rootCached: rootCachedCommand(),
        ...(options.keepResult ? { keep: { dir: posix.join(options.paths.stateDir, 'gcroots'), command: keepResultCommand() } } : {}),
      },
    },
    ...(inventory.cache && needsSystems(scope) ? { cache: cachePlan(inventory) } : {}),
    provenance: options.provenance ?? { operator: options.operator, ci: null, revision: null, fleetVersion: 'unknown' },
    ...(options.rebuildFlavourChoice && deploys ? { rebuildFlavourChoice: options.rebuildFlavourChoice } : {}),
    ...(rollout ? { rollout } : {}),
    hosts: hosts.map((spec) => {
      try {
        const planned = hostPlan(spec, inventory, options, lockingEarly.has(spec.name));
        return rollout?.onFailure === 'rollback' ? withRolloutRollback(planned) : planned;
      } catch (error) {
        // e.g. a path NIX_SSHOPTS cannot carry, or a host ssh would read as an option.
        throw new UsageError(`host ${spec.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  };
}
