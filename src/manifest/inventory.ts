// The resolved manifest: defaults merged, paths absolute, targets parsed. What plan/ consumes.

/** A NixOS activation goal, as switch-to-configuration names it. */
export type Mode = 'switch' | 'boot' | 'test' | 'dry-activate';
export const MODES: readonly Mode[] = ['switch', 'boot', 'test', 'dry-activate'];

/** An ssh endpoint. `user` other than root means privilege escalation on the target (sudo by default). */
export interface SshEndpoint {
  kind: 'ssh';
  user: string;
  host: string;
  port: number;
}

/**
 * A jump host (bastion) a host is reached through: every connection to the host goes through it,
 * with fleet's own settings for the jump hop too.
 */
export interface JumpSpec {
  endpoint: SshEndpoint;
  /** Pinned public keys of the jump host (`<type> <base64>`); empty: the user's own known_hosts. */
  hostKeys: string[];
  /** Absolute path of the identity for the jump host (default: the host's). */
  identityFile?: string;
}

/** The machine fleet runs on: no ssh. */
export interface LocalEndpoint {
  kind: 'local';
}

export type Endpoint = SshEndpoint | LocalEndpoint;

/** When keys are pushed to a host. */
export type KeyPush = 'bootstrap' | 'always' | 'never';

/** Which keys a host gets and where they go. All paths absolute on this machine unless said. */
export interface KeyPolicy {
  push: KeyPush;
  /** Private ed25519 host key file (its public half is `<file>.pub`). */
  hostKeyFile?: string;
  /** Directories searched for `<dir>/<host>/ssh_host_ed25519_key` when hostKeyFile is not set. */
  hostKeySearch: string[];
  /** Make an ed25519 host key when none is found, kept at hostKeyFile or `<first search dir>/<host>/ssh_host_ed25519_key`. */
  generate: boolean;
  /** Private agenix/global identity pushed beside the host key. */
  agenixKeyFile?: string;
  /** File name of the agenix key in the destination directory (default `global_ed25519`). */
  agenixKeyName: string;
  /** Directory on the target: `/etc/ssh`, or a persist root such as `/persist/etc/ssh`. */
  destination: string;
}

/** A `--disk-encryption-keys REMOTE LOCAL` pair for nixos-anywhere. */
export interface DiskEncryptionKey {
  remote: string;
  local: string;
}

/** Present when a host may be installed with nixos-anywhere. */
export interface BootstrapOptions {
  noDiskoDeps: boolean;
  noReboot: boolean;
  debug: boolean;
  /** nixos-anywhere --phases, never containing kexec unless asked (default disko,install,reboot). */
  phases: string[];
  /** Local directory copied to / of the new system. */
  extraFiles?: string;
  diskEncryptionKeys: DiskEncryptionKey[];
  generateHardwareConfig?: { backend: 'nixos-facter' | 'nixos-generate-config'; path: string };
  /** Seconds to wait for the installed system to answer after the reboot. */
  waitTimeout: number;
}

export interface RollbackPolicy {
  /** Default true; only switch and test ever arm a watchdog. */
  enabled: boolean;
  /** Seconds after activation before the target rolls back on its own. */
  timeout: number;
}

export interface HealthCheck {
  name: string;
  /** argv run on the target (quoted once by ssh/). */
  command: string[];
  /** Seconds. */
  timeout: number;
}

/** Where a secret's content comes from; read on this machine at run time, never stored. */
export type SecretSource =
  /** A command's standard output (argv, no shell), run in the manifest's directory. */
  | { kind: 'command'; argv: string[]; cwd: string }
  /** A file on this machine (absolute path). */
  | { kind: 'file'; path: string }
  /** An environment variable of the fleet process. */
  | { kind: 'env'; name: string };

/** When a secret is uploaded relative to activation. */
export type SecretUpload = 'before-activation' | 'after-activation';

/** One secret file for a host (colmena's deployment.keys.<name>). Holds no secret content. */
export interface SecretSpec {
  name: string;
  source: SecretSource;
  /** Absolute path on the target. */
  destination: string;
  owner: string;
  group: string;
  /** Octal permissions as four digits, e.g. `0400`. */
  mode: string;
  upload: SecretUpload;
  /** An empty content is accepted (otherwise it fails the host's secrets step). */
  allowEmpty?: boolean;
}

/**
 * How a host's privileged commands become root (for a non-root ssh user, or a local target when
 * fleet is not root): a known tool, or the manifest's own words put before each command.
 */
export type EscalationMethod = 'sudo' | 'doas' | 'run0' | { argv: string[] };

export interface Escalation {
  method: EscalationMethod;
  /**
   * Hand sudo the password fleet asked for on its stdin (askSudoPassword, --ask-sudo-password):
   * only with `sudo`, the one tool that reads a password from somewhere other than a terminal.
   */
  askPassword: boolean;
}

/** One host, fully resolved. */
export interface HostSpec {
  name: string;
  target: Endpoint;
  /** Absolute path of the ssh identity, if set. */
  identityFile?: string;
  /** The jump host the host is reached through (ssh targets only). */
  jump?: JumpSpec;
  /** Pinned public host keys, known_hosts style without the host part: `ssh-ed25519 AAAA…`. */
  hostKeys: string[];
  /** Accept an unknown host key on first contact (and print its fingerprint). */
  trustOnFirstUse: boolean;
  mode: Mode;
  /** Activate `<system>/specialisation/<name>` in switch and test mode (the system stays the boot default). */
  specialisation?: string;
  /** Where the system is built: this machine (`local`) or a remote builder; `local` when it builds on its target. */
  buildHost: Endpoint;
  /** `buildHost: target`: the derivations go to the target, which builds (and substitutes) them itself. */
  buildOnTarget: boolean;
  /** The target substitutes what its own binary caches have while the closure is copied. */
  substitutes: boolean;
  tags: string[];
  keys?: KeyPolicy;
  bootstrap?: BootstrapOptions;
  rollback: RollbackPolicy;
  healthChecks: HealthCheck[];
  /** Secret files uploaded at deploy time, in name order (defaults merged by name). */
  secrets: SecretSpec[];
  /** switch-to-configuration exit 4 (some units failed) counts as success. */
  tolerateUnitFailures: boolean;
  /** How privileged commands become root where the ssh user (or fleet, locally) is not root. */
  escalation: Escalation;
}

/** How many hosts a wave of a rollout takes: a count, or a percentage of the hosts the waves split (rounded up). */
export type WaveSize = { hosts: number } | { percent: number };

/** What a rollout does when a wave fails: start no later wave, or also roll the failing wave back. */
export type RolloutFailurePolicy = 'stop' | 'rollback';

/** The manifest's `rollout:` (canary, waves, pause, onFailure), as written; the plan cuts the waves. */
export interface RolloutSpec {
  /** Selectors (names, globs, `@tag`s) of the canary hosts; empty: no canary. */
  canary: string[];
  /** Size of the waves after the canary; undefined: the rest in one wave. */
  waves?: WaveSize;
  /** Seconds between waves. */
  pause: number;
  onFailure: RolloutFailurePolicy;
}

/** The commands fleet runs for each tool, as argv prefixes. */
export interface ToolCommands {
  nix: string[];
  nixosRebuild: string[];
  nixosAnywhere: string[];
  nixosInstall: string[];
}

/** A whole validated manifest. Hosts are in manifest order. */
export interface Inventory {
  /** Absolute path of the manifest file. */
  manifestPath: string;
  /** Flake reference: an absolute path for local flakes, else the ref as written. */
  flake: string;
  /** Hosts at once; 0 = unlimited. */
  parallel: number;
  /** Hosts evaluated per `nix build` call; undefined = from free memory. */
  evalLimit?: number;
  /** Evaluators at once; undefined = the number of cores. */
  evalJobs?: number;
  /** Which nixos-rebuild activates prebuilt systems ('auto': ask the installed one). */
  rebuildFlavour: 'auto' | 'ng' | 'bash';
  /** Seconds a closure copy may go without progress. */
  copyTimeout: number;
  /** Seconds an activation may take. */
  activationTimeout: number;
  commands: ToolCommands;
  /** Extra ssh `-o` options, `Key=Value` each. */
  sshOptions: string[];
  /** The manifest's rollout; undefined: every selected host at once (up to parallel). */
  rollout?: RolloutSpec;
  /** The binary cache every built system is pushed to once; undefined: none. */
  cache?: CacheSpec;
  hosts: HostSpec[];
}

/** `cache:` as resolved: a Nix store URL, and the signing key file (absolute) if any. */
export interface CacheSpec {
  push: string;
  signingKey?: string;
}
