// The plan: pure, serialisable data that says what `fleet apply` will run, host by host.
import type { Endpoint, HostSpec, Mode, ToolCommands } from '../manifest/inventory.js';
import type { SshSettings } from '../ssh/argv.js';

/** A value only known at run time, filled in by the executor. */
export type Ref = 'toplevel' | 'diskoScript' | 'deployId' | 'derivations';

/** One argv word: literal, or a reference resolved at run time (shown as `<toplevel>`). */
export type Arg = string | { ref: Ref };

/** One process the plan will run (locally; remote work goes through an ssh argv). */
export interface PlannedCommand {
  /** What it is for, e.g. "probe", "activate", "copy closure". */
  purpose: string;
  argv: Arg[];
  /** Extra environment, e.g. NIX_SSHOPTS. */
  env?: Record<string, string>;
  /** What is fed on stdin, described (never the content), e.g. "host key files". */
  stdin?: string;
}

export type StepKind = 'push-keys' | 'bootstrap' | 'deploy' | 'verify';
export const STEP_ORDER: readonly StepKind[] = ['push-keys', 'bootstrap', 'deploy', 'verify'];

/** One step of a host, with the guard the executor checks before it runs. */
export interface PlannedStep {
  kind: StepKind;
  /** Human sentence of the run-time condition, e.g. "only if the target is not NixOS". */
  guard: string;
  commands: PlannedCommand[];
}

/** One attribute the build stage builds. */
export interface BuildAttribute {
  host: string;
  output: 'toplevel' | 'diskoScript';
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
}

/** The fleet-wide build stage. */
export interface BuildStage {
  /** Hosts per evaluator. */
  evalLimit: number;
  /** Appended to a .drv path to build its outputs: `^*` from Nix 2.13 on, nothing before. */
  derivationSuffix: '' | '^*';
  chunks: BuildChunk[];
}

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

export interface HostPlan {
  name: string;
  mode: Mode;
  target: Endpoint;
  /** The resolved spec the steps were made from (the executor needs policies, e.g. rollback). */
  spec: HostSpec;
  /** How this host is reached over ssh (undefined for a `local` target). */
  ssh?: SshSettings;
  /** Holds the per-host deploy lock for the whole sequence (ssh targets). */
  lock?: PlannedCommand;
  /** One ssh call (or local sh) gathering the facts every guard needs; runs before the steps. */
  probe: PlannedCommand;
  /** The rollback watchdog will be armed for this host's activation. */
  watchdog: boolean;
  /** Seconds the watchdog waits for confirmation (rollback.timeout). */
  rollbackTimeout: number;
  /** Directory on this machine staged as nixos-anywhere --extra-files (keys, extra files). */
  bootstrapStaging?: string;
  /** Key files this host gets, as the key policy resolves them (undefined: no key policy). */
  keys?: PlannedKeys;
  steps: PlannedStep[];
}

export interface Plan {
  version: 1;
  manifestPath: string;
  flake: string;
  /** Hosts at once; 0 = unlimited. */
  parallel: number;
  force: boolean;
  failFast: boolean;
  /** Bootstrap (disk wipe) allowed without a prompt. */
  allowBootstrap: boolean;
  paths: RunPaths;
  /** The tool commands of the manifest (for the build stage's per-host retries). */
  commands: ToolCommands;
  build: BuildStage;
  hosts: HostPlan[];
}
