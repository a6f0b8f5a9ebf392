// The plan: pure, serialisable data that says what `fleet apply` will run, host by host, down to
// each command. Every command the runner runs is a named field here: a missing safety command
// (arming the watchdog, confirming it) is a type error, never a lookup that silently found nothing.
import type { BootstrapOptions, Endpoint, Escalation, HealthCheck, Mode, RolloutFailurePolicy, SecretSpec, ToolCommands } from '../manifest/inventory.js';
import type { SshSettings } from '../ssh/argv.js';

/** A value only known at run time, filled in by the executor. */
export type Ref =
  | 'toplevel'
  | 'diskoScript'
  | 'deployId'
  | 'derivations'
  | 'historyRecord'
  | 'digestKey'
  /** The out-link of one `nix build` in the run's result directory (see ResultRoots). */
  | 'resultLink'
  /** The store paths a closure copy sent. */
  | 'uploadedPaths'
  /** The built systems one cache push takes. */
  | 'toplevels'
  /** The outputs the evaluation cache answered, rooted for the run in one call. */
  | 'cachedOutputs'
  /** The generation a rollback goes back to, known once the target lists its generations. */
  | 'generation'
  /** ssh's `ConnectTimeout=<seconds>` of a probe polled until a deadline (a reboot's wait): never past it. */
  | 'connectTimeout';

/**
 * One argv word: literal, or a reference resolved at run time (shown as `<toplevel>`). A ref with
 * `remote: true` is a word of ssh's remote command line and is shell-quoted when it is resolved.
 */
export type Arg = string | { ref: Ref; remote?: true };

/** One process the plan will run (locally; remote work goes through an ssh argv). */
export interface PlannedCommand {
  /** What it is for, for people: "probe", "activate", "copy closure". The runner never reads it. */
  purpose: string;
  argv: Arg[];
  /** Extra environment, e.g. NIX_SSHOPTS. */
  env?: Record<string, string>;
  /** What is fed on stdin, described (never the content), e.g. "host key files". */
  stdin?: string;
}

export type StepKind = 'diff' | 'push-keys' | 'bootstrap' | 'secrets' | 'deploy' | 'verify';
export const STEP_ORDER: readonly StepKind[] = ['diff', 'push-keys', 'bootstrap', 'secrets', 'deploy', 'verify'];

/** Which nixos-rebuild activates: nixos-rebuild-ng with --store-path, or fleet itself the bash one's way. */
export type RebuildFlavour = 'ng' | 'bash';

/** One attribute the build stage builds. */
export interface BuildAttribute {
  host: string;
  /** `specialisation`: the toplevel of a specialisation (fleet status evaluates it, never builds it). */
  output: 'toplevel' | 'diskoScript' | 'specialisation';
  /** The specialisation's name, for output `specialisation`. */
  specialisation?: string;
  /** Installable, e.g. `/path/flake#nixosConfigurations."web-1".config.system.build.toplevel`. */
  installable: string;
}

/**
 * A group of hosts evaluated by one evaluator: `nix eval` yields each attribute's derivation and
 * output path, then `nix build` realises the derivations. Results are matched by path, never by
 * order (Nix 2.8 returns build results sorted by store path).
 */
export interface BuildChunk {
  attributes: BuildAttribute[];
  /** Where it builds: this machine, or a remote builder through Nix's remote building. */
  buildHost: Endpoint;
  /** Pinned keys of the build host (from its manifest entry, when it is one of the hosts). */
  buildHostKeys: string[];
  evaluate: PlannedCommand;
  build: PlannedCommand;
  /**
   * Hosts with `buildHost: target`: evaluated here with the others of the chunk, then built by
   * their targets (`build` does not run for them).
   */
  targetBuilds?: TargetBuild[];
}

/** `buildHost: target`: the host's derivations go to it and it builds them (colmena's buildOnTarget). */
export interface TargetBuild {
  host: string;
  /** nix copy --derivation to the target. */
  copyDerivations: PlannedCommand;
  /** On the target: nix-store --realise, with the target's own substituters. */
  realise: PlannedCommand;
}

/**
 * What keeps the built systems alive for the run: every `nix build` makes its out-links in `dir`
 * (indirect GC roots), removed when the run ends; with --keep-result each built system also gets a
 * root kept in `keep.dir` (one per host, replaced by the next run).
 */
export interface ResultRoots {
  dir: string;
  /** Roots what the evaluation cache answered (nothing is built for it) for the run: one call, links `<resultLink>`, `-2`, `-3`, …. */
  rootCached: PlannedCommand;
  keep?: { dir: string; command: PlannedCommand };
}

/**
 * cache.push: each built system is pushed once, as soon as it is built (signed first when a key is
 * given); the copies of the hosts that run it wait for its push, so their targets substitute from
 * the cache. A failed push is a warning: those hosts get the closure uploaded from here.
 */
export interface CachePush {
  url: string;
  sign?: PlannedCommand;
  push: PlannedCommand;
}

/** The fleet-wide build stage. */
export interface BuildStage {
  /** Hosts per evaluator (chunk) at most. */
  evalLimit: number;
  /**
   * Evaluators (chunks) at once. Each host is built as soon as it is evaluated (one `nix build`
   * at a time per build host), and starts its sequence then, while other chunks still evaluate.
   */
  evalJobs: number;
  /**
   * When the chunk size came from free memory: the share of it each evaluator may take (free
   * memory / evalJobs, in MiB); chunks hold at most this / 512 MiB hosts.
   */
  evaluatorMemoryMiB?: number;
  /** Appended to a .drv path to build its outputs: `^*` from Nix 2.13 on, nothing before. */
  derivationSuffix: '' | '^*';
  /** The hosts to evaluate (every selected host not in `cached`), cut into chunks. */
  chunks: BuildChunk[];
  /** The flake reference the evaluators read (absent: the plan's flake): the locked one when the cache is used. */
  evalFlake?: string;
  /** --impure: the evaluators may read the environment and files outside the flake (never cached). */
  impure?: boolean;
  /** Whether evaluations are looked up in and kept in fleet's evaluation cache, and under which key. */
  evalCache?: EvalCacheState;
  /** Hosts whose every output came from the evaluation cache (valid in the local store when planned): not evaluated. */
  cached?: CachedHost[];
  /** Where the built systems are rooted while the run lasts. */
  results: ResultRoots;
}

/** One evaluated output: the derivation and the store path it builds. */
export interface EvaluatedOutput {
  drv: string;
  out: string;
}

/** A host whose evaluation the cache answered. */
export interface CachedHost {
  host: string;
  outputs: Partial<Record<BuildAttribute['output'], EvaluatedOutput>>;
}

/**
 * What determines an evaluation besides the host and its attribute: the flake's locked identity,
 * the Nix that evaluates and its evaluation settings, and fleet's own evaluation expression.
 */
export interface EvalCacheKey {
  /** sha256 of what `nix flake metadata --json` reports (narHash, revision, locked inputs). */
  flake: string;
  /** `nix --version`. */
  nix: string;
  /** The nix command (`commands.nix`), which may carry options of its own. */
  nixCommand: string[];
  /** Nix's settings that change what an evaluation yields (system, pure-eval, restrict-eval, …). */
  settings: Record<string, unknown>;
  /** sha256 of fleet's evaluation expression (evalApplyFunction) and the evaluator's argv shape. */
  expression: string;
}

/** The evaluation cache of a run: used (with its directory and key), or not, and why. */
export type EvalCacheState =
  | { use: true; dir: string; key: EvalCacheKey }
  | { use: false; reason: string };

/** Per-run files at fixed places, so the plan is concrete and stable. */
export interface RunPaths {
  /** Manifest-side state (known_hosts written from the manifest, generated keys). */
  stateDir: string;
  /** known_hosts written from the manifest's pinned keys. */
  knownHosts: string;
  /** known_hosts that trust-on-first-use hosts add to. */
  tofuKnownHosts: string;
  /** Short directory for ssh control sockets, the pinned known_hosts and bootstrap staging (0700). */
  runtimeDir: string;
}

/** The keys a host gets. Paths only: key material is read at run time and never enters the plan. */
export interface PlannedKeys {
  /** When they are pushed (keys.push). */
  push: 'bootstrap' | 'always' | 'never';
  /** Directory on the target, e.g. /etc/ssh or /persist/etc/ssh. */
  destination: string;
  /** Candidate private host key files, searched in order; the first that exists is pushed with its .pub. */
  hostKeyCandidates: string[];
  /** Where a missing host key is generated (ed25519), if the policy says generate. */
  generateAt?: string;
  /** The agenix/global identity file and its name on the target. */
  agenixKey?: { source: string; name: string };
}

/** A step that never runs for this host, and why (shown by `fleet plan`). */
export interface NeverStep<K extends StepKind> {
  kind: K;
  never: string;
}

/**
 * First contact. Over ssh, one session takes the deploy lock, answers the probe (facts every
 * guard needs) and holds the lock until fleet closes it: one round trip. A local target is
 * probed only.
 */
export type ConnectStep =
  | {
      kind: 'lock-and-probe';
      /**
       * The session starts when the run does, while the hosts are evaluated, and opens the shared
       * connection; the host's steps use it once its system is evaluated. Not for a
       * trust-on-first-use host, whose first contact fleet reports when the host starts.
       */
      early: boolean;
      command: PlannedCommand;
      /**
       * How fleet learns whether the built closure is already on the target: from the probe
       * (<toplevel> is known when the session starts), or asked over the held session once the
       * host is evaluated (`?<toplevel>` on its stdin; one line back), for an early session.
       */
      closure: 'probe' | 'ask';
      waitSeconds: number;
    }
  | { kind: 'probe'; command: PlannedCommand };

/**
 * What a run does with each host's diff: `report` (fleet diff: the outcome carries it, nothing is
 * activated), `show` (apply --diff: shown before the host activates), `confirm` (apply --confirm:
 * every host's diff, then one question before any host changes).
 */
export type DiffUse = 'report' | 'show' | 'confirm';

/**
 * The diff, before anything on the target changes: the closure is copied (the copy deploy makes
 * anyway; skipped when the probe found it there), then the target lists the closures of the
 * system it runs and of the built one, and fleet compares them by package.
 */
export interface DiffStep {
  kind: 'diff';
  guard: string;
  use: DiffUse;
  /** The copy of the built closure (ssh targets). */
  copy?: PlannedCommand;
  /** Lists both closures with their sizes, where both are (on the target). */
  compare: PlannedCommand;
  /** Seconds a copy may go without progress before it is killed (and tried again). */
  copyTimeoutSeconds: number;
}

export interface PushKeysStep {
  kind: 'push-keys';
  guard: string;
  keys: PlannedKeys;
  /** ssh-keygen, when a missing host key may be generated. */
  generate?: PlannedCommand;
  /** One ssh call writing the key files it reads on stdin. */
  push: PlannedCommand;
  /** Host keys to pin after the push (ssh targets). */
  pinPushedKey: boolean;
}

/**
 * One secret as the plan holds it: its name, where its content is read (a command's argv, a file's
 * path, a variable's name: never the content), where it goes and with which owner and mode.
 */
export type PlannedSecret = SecretSpec;

/** One upload of secrets: one ssh call; argv names every file of the upload, stdin carries the contents. */
export interface SecretUpload {
  secrets: PlannedSecret[];
  /** Writes the records `<index> <base64>` it reads on stdin, each to its file (see SECRETS_PUSH_SCRIPT). */
  push: PlannedCommand;
}

/**
 * Secrets (colmena's deployment.keys). Their sources are read on this machine once per run, right
 * after the probe and before anything on the host changes; the probe's keyed digests say which
 * files are missing or differ; only those are uploaded, before activation and after it.
 */
export interface SecretsStep {
  kind: 'secrets';
  guard: string;
  /** Every secret of the host, in name order. */
  secrets: PlannedSecret[];
  beforeActivation?: SecretUpload;
  afterActivation?: SecretUpload;
  /** dry-activate: sources are read and compared, nothing is uploaded. */
  uploads: boolean;
}

export interface BootstrapStep {
  kind: 'bootstrap';
  guard: string;
  options: BootstrapOptions;
  /** nixos-anywhere with the prebuilt disko script and system. */
  install: PlannedCommand;
  /** Probe over a fresh connection until the installed system answers (with the pushed key pinned). */
  waitForInstalled: PlannedCommand;
  /** Seconds to wait for it (0 with noReboot: it is asked once). */
  waitSeconds: number;
  /** Directory staged as --extra-files (keys, the manifest's extra files), if any. */
  staging?: string;
}

/**
 * An activation that arms the rollback watchdog first, in the same call on the target (its argv
 * carries the deploy id): made only by armedActivateCommand.
 */
export interface ArmingActivateCommand extends PlannedCommand {
  arms: 'watchdog';
}

/**
 * A live activation behind the rollback watchdog: arm it, activate, then confirm it over one
 * brand-new connection that also reports what runs. Without `confirm`, this does not type-check;
 * nor does an activation with neither its own arming call nor one that arms.
 */
export type WatchedActivation = {
  kind: 'watched';
  /** Over a fresh connection: confirm the watchdog, then the probe's facts. */
  confirm: PlannedCommand;
  /** Over a fresh connection, after the deadline: the probe, to see whether the target rolled back. */
  afterDeadline: PlannedCommand;
  /** Seconds the watchdog waits for confirmation (rollback.timeout). */
  timeoutSeconds: number;
} & (
  | {
      /** Arms the watchdog on the target (detached from the session); takes the deploy id. */
      arm: PlannedCommand;
      /** nixos-rebuild-ng, run on this machine once the watchdog is armed. */
      activate: PlannedCommand;
    }
  | {
      /**
       * Armed by `activate` itself before anything is activated: both are fleet's own scripts on
       * the target (the bash flavour), so one session does both (ARMED_ACTIVATE_SCRIPT).
       */
      arm: 'in-activate';
      activate: ArmingActivateCommand;
    }
);

/** An activation with no watchdog (boot, dry-activate, rollback disabled, a local target). */
export interface PlainActivation {
  kind: 'plain';
  activate: PlannedCommand;
  /** Why there is no watchdog, for `fleet plan`. */
  unwatched: string;
  /** How the result is checked afterwards: over a fresh connection where the live system changed. */
  check?: { command: PlannedCommand; fresh: boolean };
}

/**
 * The specialisation a live activation switches to instead of the system itself (nixos-rebuild's
 * --specialisation): `find` runs on the target once the closure is there and before anything is
 * armed or activated, fails the host when the built system has none of that name, and says which
 * store path the host then runs live (what verify and status compare with).
 */
export interface PlannedSpecialisation {
  name: string;
  find: PlannedCommand;
}

export interface DeployStep {
  kind: 'deploy';
  guard: string;
  flavour: RebuildFlavour;
  /** switch and test of a host with a specialisation; the system itself stays the boot default. */
  specialisation?: PlannedSpecialisation;
  /** Copies the closure before anything is activated (ssh targets); skipped when the probe found it. */
  copy?: PlannedCommand;
  activation: WatchedActivation | PlainActivation;
  /** switch-to-configuration's exit 4 (units failed) counts as success. */
  tolerateUnitFailures: boolean;
  /** Seconds a copy may go without progress before it is killed (and tried again). */
  copyTimeoutSeconds: number;
  /** Seconds the activation may take before it is stopped. */
  activationTimeoutSeconds: number;
}

export interface PlannedHealthCheck {
  check: HealthCheck;
  command: PlannedCommand;
}

export interface VerifyStep {
  kind: 'verify';
  guard: string;
  /** Run after the system is verified; any failure fails the host (the new system stays live). */
  healthChecks: PlannedHealthCheck[];
}

/** The CI run that drives fleet, as its environment says (never a token). */
export interface CiRun {
  /** e.g. `github-actions`, `gitlab-ci`, `buildkite`, `jenkins`. */
  system: string;
  /** Who started the run (the CI's user name), when the CI says. */
  actor: string | null;
  /** Link to the run, credentials stripped. */
  runUrl: string | null;
}

/** Who deploys what: the same for every host of a run, written into each host's deploy history. */
export interface Provenance {
  /** `user@machine`, or the CI's actor. */
  operator: string;
  ci: CiRun | null;
  /** The flake's git commit, `-dirty` with uncommitted changes; null when unknown (not a git checkout). */
  revision: string | null;
  fleetVersion: string;
}

/**
 * After a verified deploy or install: one record appended to the host's deploy history. Not a
 * StepKind: it is part of finishing a good deploy, and a failed write is a warning, never a failure.
 */
export interface RecordHistoryStep {
  kind: 'record-history';
  guard: string;
  /** The history file on the target (JSON lines, root 0644). */
  file: string;
  /** One call appending `<historyRecord>` (one JSON line) to it, atomically. */
  append: PlannedCommand;
  /**
   * During the host's own sequence the held lock session appends it instead (`!<file>` and the
   * record on its stdin, answered `history=recorded`; see LOCK_SCRIPT): no session of its own.
   * `append` then serves only after an install in the same run (nixos-anywhere rebooted the host:
   * the session went with the installer) and later (a rollout's rollback of the host). False
   * without a lock session (a local target).
   */
  overLockSession: boolean;
}

/**
 * A host's rollback to a generation known at run time (`<generation>`: the one it ran before the
 * run, or `fleet rollback --to N`), under the deploy lock: list the generations, arm the watchdog
 * (a watched switch), switch the profile and run switch-to-configuration, then confirm over a
 * fresh connection (or probe over one). Then the history records it (the host's history step).
 */
export interface RollbackStep {
  kind: 'rollback';
  guard: string;
  action: 'switch' | 'boot';
  generations: PlannedCommand;
  arm?: PlannedCommand;
  activate: PlannedCommand;
  confirm?: PlannedCommand;
  check: PlannedCommand;
}

export interface HostPlan {
  name: string;
  mode: Mode;
  /**
   * The specialisation the host runs live (its `specialisation`, or --specialisation), in switch
   * and test mode only; fleet status compares the live system with it.
   */
  specialisation?: string;
  target: Endpoint;
  /** How this host is reached over ssh (undefined for a `local` target). */
  ssh?: SshSettings;
  /**
   * How the host's privileged commands become root, present only where they need to (a non-root
   * ssh user, a local target when fleet is not root); with `askPassword`, each of them takes the
   * run's sudo password on its stdin.
   */
  escalation?: Escalation;
  /** Keys fleet pins for this host in its known_hosts (manifest pins). */
  pinnedKeys: string[];
  /** The target substitutes from its own caches during the copies (`substitutes`, --no-substitutes). */
  substitutes: boolean;
  /** Sizes what a copy to this host sent (ssh targets whose systems are built here). */
  uploadSizes?: PlannedCommand;
  /**
   * The copy without substitution, for the tries after a substituting copy failed: a target whose
   * cache went unreachable after it first used it makes Nix 2.8's copy fail, not fall back.
   */
  copyFallback?: PlannedCommand;
  /** Seconds of the rollback watchdog for live changes (apply, fleet rollback); null: rollback disabled. */
  watchdogSeconds: number | null;
  /** The key policy as resolved (fleet install and fleet reboot use it too); undefined: none. */
  keys?: PlannedKeys;
  /** Every health check of the host (fleet check runs them all; apply's verify those of live modes). */
  healthChecks: PlannedHealthCheck[];
  connect: ConnectStep;
  diff: DiffStep | NeverStep<'diff'>;
  pushKeys: PushKeysStep | NeverStep<'push-keys'>;
  bootstrap: BootstrapStep | NeverStep<'bootstrap'>;
  secrets: SecretsStep | NeverStep<'secrets'>;
  deploy: DeployStep;
  verify: VerifyStep | NeverStep<'verify'>;
  history: RecordHistoryStep | { kind: 'record-history'; never: string };
  /** A rollout with onFailure: rollback: how the host goes back when its wave fails. */
  rollback?: RollbackStep;
}

/** What a run does of each host's sequence: everything (apply), or one step (the single-step commands). */
export interface StepScope {
  /** Only these steps run (connect always does). */
  steps: StepKind[];
  /** Push keys whatever keys.push says (`fleet push-keys`). */
  forceKeyPush: boolean;
  /** Stop after the build stage (`fleet build`). */
  buildOnly: boolean;
}

/** One wave of a rollout: hosts deployed together, up to `parallel` at once. */
export interface Wave {
  /** The canary wave comes first and holds only canary hosts. */
  kind: 'canary' | 'wave';
  /** Position among all waves, canary included, from 1. */
  index: number;
  /** Host names in manifest order. */
  hosts: string[];
}

/**
 * A rollout (`rollout:` or --canary/--waves): waves run one after the other; a wave starts only
 * when every host of the one before ended changed or unchanged. Within a wave, hosts start as
 * soon as their own systems are evaluated (and copy once they are built).
 */
export interface RolloutPlan {
  waves: Wave[];
  /** Seconds between waves. */
  pauseSeconds: number;
  /** When a wave fails: start no later wave, or also roll its changed hosts back. */
  onFailure: RolloutFailurePolicy;
  /** How the waves were cut, for people, e.g. `canary vps-pacman, then waves of 25% (2 hosts)`. */
  description: string;
}

export interface Plan {
  version: 2;
  manifestPath: string;
  flake: string;
  /** Hosts at once; 0 = unlimited. */
  parallel: number;
  force: boolean;
  failFast: boolean;
  /** Bootstrap (disk wipe) allowed without a prompt. */
  allowBootstrap: boolean;
  scope: StepScope;
  paths: RunPaths;
  /** The tool commands of the manifest (for the build stage's per-host retries). */
  commands: ToolCommands;
  build: BuildStage;
  /** Who runs this and from which revision: what each host's deploy history records. */
  provenance: Provenance;
  /**
   * Which nixos-rebuild activates the hosts' systems and why, for people (`fleet plan` shows it in
   * one line), e.g. `rebuildFlavour: auto, and no nixos-rebuild on PATH: fleet activates …`.
   */
  rebuildFlavourChoice?: string;
  /** The rollout's waves; undefined: every host in one pool, each as soon as it is evaluated. */
  rollout?: RolloutPlan;
  /** The binary cache each built system is pushed to once; undefined: none. */
  cache?: CachePush;
  hosts: HostPlan[];
}
