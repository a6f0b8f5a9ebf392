// The raw fleet.yaml as written, before defaults: GENERATED from schemas/fleet.schema.json.
// Do not edit; run `npm run gen:types` (a unit test fails when this file drifts from the schema).

/**
 * A flake path or reference, without "#attribute". No NUL or line breaks.
 */
export type FlakeRef = string;
/**
 * A file or directory on this machine: absolute, starting with "~/" (the home directory), or relative to the manifest's directory. No NUL or line breaks.
 */
export type Path = string;
/**
 * A host name, a glob over host names ("web-*", "db-?"), or @tag.
 */
export type HostSelector = string;
/**
 * A string that is not empty.
 */
export type NonEmptyString = string;
/**
 * A command as a non-empty list of words; no shell is involved.
 *
 * @minItems 1
 */
export type Argv = NonEmptyString[];
/**
 * An ssh option written Key=Value, passed as `-o Key=Value`.
 */
export type SshOption = string;
/**
 * "local", or [user@]host[:port] where host is a name, an IPv4 address or a bracketed IPv6 address ("[2001:db8::1]:2222"); an IPv6 address without a port may be written bare.
 */
export type ManifestEndpoint = string;
/**
 * Letters, digits, ".", "_" and "-", starting with a letter or digit.
 */
export type SafeWord = string;
/**
 * An SSH public key as in known_hosts without the host part: "<type> <base64>", optionally followed by a comment, e.g. "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…".
 */
export type PublicKey = string;
/**
 * A jump host: [user@]host[:port], or an object with its own pinned key and identity.
 */
export type ManifestJump =
  | string
  | {
      target: JumpEndpoint;
      /**
       * The jump host's public SSH host key(s), pinned in fleet's own known_hosts; without it, ssh checks the jump host strictly against your own known_hosts.
       *
       * @minItems 1
       */
      hostKey?: string | PublicKey[];
      identityFile?: Path;
    };
/**
 * [user@]host[:port] of a jump host, as a host's target is written (user default: the host's user; port default 22).
 */
export type JumpEndpoint = string;
/**
 * An absolute path on the target, starting with "/". No NUL or line breaks.
 */
export type AbsolutePath = string;
/**
 * The host may be installed with nixos-anywhere and disko when a probe proves it is not NixOS yet (a host that answers as NixOS is never wiped). true or {} means with the defaults below; false turns off a bootstrap given in defaults.
 */
export type ManifestBootstrap =
  | boolean
  | {
      /**
       * Build the disko script without its dependencies (nixos-anywhere --no-disko-deps), for targets with little RAM (about 1 GB).
       */
      noDiskoDeps?: boolean;
      /**
       * Do not reboot into the new system after installing (nixos-anywhere --no-reboot).
       */
      noReboot?: boolean;
      /**
       * Run nixos-anywhere with --debug.
       */
      debug?: boolean;
      /**
       * nixos-anywhere --phases. kexec is off by default: list it to boot an installer first.
       *
       * @minItems 1
       */
      phases?: ('disko' | 'install' | 'reboot' | 'kexec')[];
      extraFiles?: Path;
      /**
       * Keys copied to the installer for disk encryption (nixos-anywhere --disk-encryption-keys REMOTE LOCAL).
       */
      diskEncryptionKeys?: ManifestDiskEncryptionKey[];
      generateHardwareConfig?: ManifestGenerateHardwareConfig;
      waitTimeout?: Seconds;
    };
/**
 * A whole number of seconds, at least 1.
 */
export type Seconds = number;
/**
 * A user or group name on the target: a letter or "_", then letters, digits, "_", "." or "-".
 */
export type UnixName = string;

/**
 * fleet.yaml: how each machine of a NixOS fleet is reached and deployed. The configurations themselves live in the flake as nixosConfigurations.<host>.
 */
export interface FleetManifest {
  /**
   * Version of the manifest format. Always 1.
   */
  version: 1;
  flake?: FlakeRef;
  /**
   * How many hosts are deployed at once. 0 means no limit.
   */
  parallel?: number;
  /**
   * How many hosts one evaluator (`nix eval`, then one `nix build` of its derivations) takes. When absent, fleet chooses from the free memory (about 512 MiB per host) and, when there are at least as many hosts as evalJobs, cuts the hosts into at least evalJobs chunks so that every evaluator has one. --eval-limit overrides it.
   */
  evalLimit?: number;
  /**
   * How many evaluators (chunks of at most evalLimit hosts) run at once; an evaluator hands on each host as soon as it has evaluated it, and that host is built and deployed while the evaluators go on. The evaluators share the free memory. When absent: the number of cores of the machine fleet runs on. --eval-jobs overrides it.
   */
  evalJobs?: number;
  /**
   * Which nixos-rebuild this machine has, and so how fleet activates a prebuilt system: "ng" (nixos-rebuild-ng with --store-path: fleet runs `nixos-rebuild <mode> --store-path <system> --target-host …`), "bash" (the bash nixos-rebuild, or a nixos-rebuild-ng without --store-path: fleet sets the system profile and runs switch-to-configuration on the target itself, as nixos-rebuild does, so no host is evaluated twice), or "auto": ask the installed nixos-rebuild with a side-effect-free `nixos-rebuild --store-path` (no value), and with no nixos-rebuild on PATH activate as "bash" (fleet's own activation needs none); an answer that is neither is an error, never a guess. "ng" without a nixos-rebuild on PATH is an error. --rebuild-flavour overrides it.
   */
  rebuildFlavour?: 'auto' | 'ng' | 'bash';
  /**
   * Seconds a closure copy to a host may go without progress (nix prints a line per store path it copies) before fleet kills it; a copy is tried 3 times, then the host fails with nothing activated.
   */
  copyTimeout?: number;
  /**
   * Seconds an activation (nixos-rebuild, or switch-to-configuration on the target) may take before fleet stops it and fails the host; a live one's rollback watchdog then decides, as after any failed activation.
   */
  activationTimeout?: number;
  cache?: ManifestCache;
  rollout?: ManifestRollout;
  commands?: ManifestCommands;
  ssh?: ManifestSsh;
  defaults?: ManifestHost;
  /**
   * The machines, by name. The name is the attribute in nixosConfigurations and, unless target says otherwise, the address ssh connects to. When parallelism is limited, hosts start in the order they are evaluated: in manifest order within a chunk, and chunks are cut in manifest order (with evalJobs: 1, manifest order); with a rollout, in the order of its waves, canary first.
   */
  hosts?: {
    [k: string]: ManifestHost | undefined;
  };
}
/**
 * A binary cache fleet pushes every built system to, once, as soon as it is built (before any host copies it), so that the hosts substitute it from there: this machine uploads each store path once, whatever the number of hosts. A failed push fails nothing: fleet warns and the hosts get what the cache lacks uploaded from here. Hosts fetch from the cache only if it is among their own substituters (and its key among their trusted-public-keys).
 */
export interface ManifestCache {
  /**
   * Where fleet pushes: any Nix store URL `nix copy --to` accepts (s3://bucket?region=…, ssh-ng://cache-host, file:///srv/cache, https://… with its upload options), e.g. the upload side of the cache your hosts substitute from.
   */
  push: string;
  signingKey?: Path;
}
/**
 * How `fleet apply` rolls a change out: the canary hosts first, alone, then the rest in waves; a wave starts only when every host of the one before ended changed or unchanged (its health checks passed). When a wave fails, no later wave starts: their hosts end skipped, naming the cause. Without rollout, every selected host is deployed at once (up to parallel). --canary, --waves, --pause and --on-failure override these fields; --no-rollout ignores them.
 */
export interface ManifestRollout {
  /**
   * Hosts deployed first, alone, as a wave of their own: names, globs or @tags (one selector or a list). Only the selected ones count: a canary left out by --only or --exclude is not deployed, and the waves start at once.
   */
  canary?: string | HostSelector[];
  /**
   * The other hosts, in manifest order, in waves of this many: a number of hosts (2), or a percentage of them ("25%", rounded up, so 25% makes at most 4 waves). When absent, they form one wave.
   */
  waves?: number | string;
  /**
   * Seconds to wait between waves (after the canary too); 0 = none. Ctrl-C during the pause stops the rollout.
   */
  pause?: number;
  /**
   * When a wave fails: stop (start no later wave), or rollback (also switch the hosts of the failing wave that changed back to the generation they ran before, so they end rolled-back).
   */
  onFailure?: 'stop' | 'rollback';
}
/**
 * The commands fleet runs for each tool, as argv prefixes, so that a tool can come from elsewhere: ["nix", "run", "nixpkgs#nixos-rebuild", "--"].
 */
export interface ManifestCommands {
  nix?: Argv;
  nixosRebuild?: Argv;
  nixosAnywhere?: Argv;
  nixosInstall?: Argv;
}
/**
 * How fleet runs ssh for every host.
 */
export interface ManifestSsh {
  /**
   * Extra ssh options for every connection, each Key=Value and passed as `-o Key=Value` (also to nix and nixos-rebuild through NIX_SSHOPTS). fleet's host-key options come first and win; these override fleet's connection defaults (ConnectTimeout, ServerAliveInterval, ServerAliveCountMax). fleet never adds, removes or reorders ssh's algorithms: a KexAlgorithms=… (or Ciphers, MACs) here or in your ssh configuration is what ssh negotiates, on every connection (docs/safety.md, "ssh connections per host").
   */
  options?: SshOption[];
}
/**
 * One machine: how to reach it and how to deploy it.
 */
export interface ManifestHost {
  target?: ManifestEndpoint;
  user?: SafeWord;
  /**
   * ssh port. A port written in target wins over a default; a host's own port must agree with its target.
   */
  port?: number;
  identityFile?: Path;
  /**
   * The host's public SSH host key(s), pinned: ssh refuses any other, and your own known_hosts is not consulted for this host. One key or a list of keys. Without hostKey (and without a key policy that pushes the host key), ssh checks the host strictly against your own known_hosts.
   *
   * @minItems 1
   */
  hostKey?: string | PublicKey[];
  jump?: ManifestJump;
  /**
   * Accept an unknown host key on first contact (ssh StrictHostKeyChecking=accept-new), keep it in .fleet/known_hosts.tofu beside the manifest and print its fingerprint. Without this, a host is checked strictly: against the keys fleet knows (hostKey, or the host key its key policy pushes), else against your own known_hosts.
   */
  trustOnFirstUse?: boolean;
  /**
   * What activation does: switch (boot default and live now), boot (boot default only, applied on the next reboot), test (live now, not the boot default), dry-activate (print what would change).
   */
  mode?: 'switch' | 'boot' | 'test' | 'dry-activate';
  specialisation?: SafeWord;
  buildHost?: ManifestEndpoint;
  /**
   * Let the target fetch what its own binary caches (its nix.conf substituters) have while the closure is copied (nix copy --substitute-on-destination; nixos-anywhere without --no-substitute-on-destination); only what no cache has is uploaded from this machine, and a target whose cache is unreachable still gets everything uploaded. false: upload the whole missing closure from here (a target without a usable cache, or a fast link to it). --no-substitutes turns it off for a run.
   */
  substitutes?: boolean;
  /**
   * Labels for selecting hosts (fleet apply --tag homelab).
   */
  tags?: SafeWord[];
  keys?: ManifestKeys;
  bootstrap?: ManifestBootstrap;
  rollback?: ManifestRollback;
  /**
   * Commands run on the target after a live activation (switch, test), once the fresh connection is confirmed; a host succeeds only when all of them exit 0, and fleet check runs them too.
   */
  healthChecks?: ManifestHealthCheck[];
  /**
   * Secret files fleet uploads to the host at deploy time (colmena's deployment.keys), by name: read on this machine at run time from a command, a file or an environment variable, sent over ssh's stdin, never through the Nix store, an argv or a log. A host's secrets are merged with those in defaults by name: a host's entry replaces the default entry of the same name whole.
   */
  secrets?: {
    [k: string]: ManifestSecret | undefined;
  };
  /**
   * Count an activation in which some systemd units failed (switch-to-configuration exit 4) as a success.
   */
  tolerateUnitFailures?: boolean;
  /**
   * How a non-root ssh user (or fleet itself, for a local target when it does not run as root) becomes root for every privileged step: sudo (`sudo -n --`), doas (`doas -n --`), run0 (`run0 --no-ask-password --`, systemd 256 or newer; without a terminal it hands the command its stdin and output directly), or your own words put before each command, e.g. [sudo, -H, --] (colmena's privilegeEscalationCommand; deploy-rs's sudo; nixos-rebuild-ng's --sudo/--elevate). Without a password each must work non-interactively: NOPASSWD in sudoers, nopass in doas.conf, a polkit rule for run0.
   *
   * @minItems 1
   */
  privilegeEscalation?: string | NonEmptyString[];
  /**
   * fleet asks for the sudo password once per run on the terminal (never echoed) and hands it to each privileged command on its stdin (`sudo -S -k -p ''`), never in an argv, environment, file, log or report (nixos-rebuild-ng's --ask-sudo-password; the same as `fleet apply --ask-sudo-password`). Only with privilegeEscalation sudo: doas reads a password only from a terminal and run0 asks polkit, and fleet's commands have no terminal. Without a terminal it is a usage error.
   */
  askSudoPassword?: boolean;
}
/**
 * Secret keys fleet puts on the host: its SSH host key (so it keeps its identity across reinstalls) and an agenix identity. Without keys, fleet pushes nothing.
 */
export interface ManifestKeys {
  /**
   * When keys are pushed: bootstrap (only with an install, through nixos-anywhere's extra files), always (also before every deploy when missing or different on the target), never.
   */
  push?: 'bootstrap' | 'always' | 'never';
  hostKeyFile?: Path;
  /**
   * Directories searched for <dir>/<host>/ssh_host_ed25519_key when hostKeyFile is not set. They need not exist when the manifest is validated.
   */
  hostKeySearch?: Path[];
  /**
   * Make an ed25519 host key when none is found, kept at hostKeyFile or <first hostKeySearch dir>/<host>/ssh_host_ed25519_key.
   */
  generate?: boolean;
  agenixKeyFile?: Path;
  agenixKeyName?: SafeWord;
  destination?: AbsolutePath;
}
/**
 * One disk encryption key for the installer.
 */
export interface ManifestDiskEncryptionKey {
  remote: AbsolutePath;
  local: Path;
}
/**
 * Generate the hardware configuration during the install (nixos-anywhere --generate-hardware-config BACKEND PATH).
 */
export interface ManifestGenerateHardwareConfig {
  /**
   * Generator run on the target.
   */
  backend: 'nixos-facter' | 'nixos-generate-config';
  path: Path;
}
/**
 * The watchdog armed on the target before a live activation (switch, test): unless fleet confirms over a brand-new ssh connection in time, the target switches back to its previous generation on its own.
 */
export interface ManifestRollback {
  /**
   * Arm the watchdog. boot and dry-activate never arm it.
   */
  enabled?: boolean;
  timeout?: Seconds;
}
/**
 * A command run on the target as root (through the host's privilegeEscalation for a non-root ssh user) after a live activation, and by fleet check.
 */
export interface ManifestHealthCheck {
  name: NonEmptyString;
  /**
   * A list of words run as is, or one string run with sh -c.
   *
   * @minItems 1
   */
  command: string | NonEmptyString[];
  timeout?: Seconds;
}
/**
 * One secret file: where its content comes from (exactly one of command, file, env), where it goes on the target, with which owner, group and mode, and when it is uploaded. The content is read once per run, kept in memory only, and compared with the target's copy through a keyed digest: an unchanged secret is not uploaded again.
 */
export interface ManifestSecret {
  command?: Argv;
  file?: Path;
  /**
   * An environment variable of the fleet process whose value is the secret; unset fails the host.
   */
  env?: string;
  destination?: AbsolutePath;
  owner?: UnixName;
  group?: UnixName;
  /**
   * Permissions of the file, in octal.
   */
  mode?: string;
  /**
   * before-activation: uploaded before the new system is activated (it can use the secret at once); after-activation: after it is activated and verified (for an owner the new system creates). In dry-activate mode nothing is uploaded.
   */
  upload?: 'before-activation' | 'after-activation';
  /**
   * Accept an empty secret (a command that prints nothing, an empty file or variable). Off by default: an empty secret is almost always a source that failed quietly, so it fails the host's secrets step before anything is uploaded.
   */
  allowEmpty?: boolean;
}
