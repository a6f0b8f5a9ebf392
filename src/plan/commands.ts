// Pure argv builders for every tool fleet drives, per ../shared/CONTRACTS.md. Nothing here runs anything.
import { base64Bytes } from '../bytes.js';
import type { BootstrapOptions, Endpoint, Escalation, Mode, SshEndpoint, ToolCommands } from '../manifest/inventory.js';
import { asRoot, CONTROL_PERSIST_SECONDS, controlPath, DEFAULT_ESCALATION, destination, escalate, FRESH_CONNECTION, nixSshOpts, quoteRemoteCommand, sshBase, type SshSettings } from '../ssh/index.js';
import { ACTIVATE_SCRIPT, APPEND_HISTORY_SCRIPT, ARM_WATCHDOG_SCRIPT, ARMED_ACTIVATE_SCRIPT, CONFIRM_WATCHDOG_SCRIPT, DIFF_SCRIPT, HISTORY_FILE, LOCK_SCRIPT, PROBE_SCRIPT, PUSH_KEYS_SCRIPT, SECRETS_PUSH_SCRIPT, SPECIALISATION_SCRIPT, STATUS_PROBE_SCRIPT } from './remote-scripts.js';
import type { Arg, ArmingActivateCommand, BuildAttribute, PlannedCommand, PlannedSecret, RebuildFlavour } from './types.js';

const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/**
 * `ssh://user@host` for Nix (the port travels in NIX_SSHOPTS, as `-p`, which every Nix honours).
 * An IPv6 address goes in brackets, which Nix strips before it calls ssh (from Nix 2.4, NixOS/nix#4319;
 * from 2.31 they are required). A zone (`fe80::1%eth0`) stays as it is up to Nix 2.30, whose store
 * URL pattern allows `%<zone>` (NixOS/nix#4646); from 2.31 Nix parses store URLs as RFC 3986 URLs,
 * where it must be percent-encoded: `[fe80::1%25eth0]`.
 */
export function nixSshStoreUri(endpoint: SshEndpoint, nixVersion?: string): string {
  const at = destination(endpoint).lastIndexOf('@');
  const zone = nixAtLeast(nixVersion, 2, 31) ? endpoint.host.replace('%', '%25') : endpoint.host;
  const host = endpoint.host.includes(':') ? `[${zone}]` : endpoint.host;
  return `ssh://${destination(endpoint).slice(0, at)}@${host}`;
}

/** Whether `nix --version` says at least major.minor (unknown: no). */
function nixAtLeast(nixVersion: string | undefined, major: number, minor: number): boolean {
  const match = nixVersion?.match(/(\d+)\.(\d+)/);
  if (!match) return false;
  const [a, b] = [Number(match[1]), Number(match[2])];
  return a > major || (a === major && b >= minor);
}

/** `<flake>#nixosConfigurations."<host>".config.system.build.<output>` */
export function installable(flake: string, host: string, output: string): string {
  return `${flake}#nixosConfigurations."${host}".config.system.build.${output}`;
}

/** The build attributes of one host: its toplevel, and its disko script when it may be bootstrapped. */
export function buildAttributes(flake: string, host: string, bootstrap: BootstrapOptions | undefined): BuildAttribute[] {
  const attributes: BuildAttribute[] = [
    { host, output: 'toplevel', installable: installable(flake, host, 'toplevel') },
  ];
  if (bootstrap) {
    const disko = bootstrap.noDiskoDeps ? 'diskoScriptNoDeps' : 'diskoScript';
    attributes.push({ host, output: 'diskoScript', installable: installable(flake, host, disko) });
  }
  return attributes;
}

/** The toplevel of a host's specialisation, for fleet status (evaluated only, never built). */
export function specialisationAttribute(flake: string, host: string, name: string): BuildAttribute {
  return {
    host,
    output: 'specialisation',
    specialisation: name,
    installable: `${flake}#nixosConfigurations."${host}".config.specialisation."${name}".configuration.system.build.toplevel`,
  };
}

/** A Nix string literal (JSON escapes, plus `$` so `${` cannot interpolate). */
function nixString(text: string): string {
  return JSON.stringify(text).replace(/\$/g, '\\$');
}

/**
 * The `--apply` function that picks, in one evaluation, each attribute's derivation and output
 * path: `[ { host = "<host>"; v = { toplevel = { drv = …; out = …; }; diskoScript = …; }; } … ]`,
 * in the order of `attributes` (a list, not an attribute set, which Nix would sort by name).
 */
export function evalApplyFunction(attributes: readonly BuildAttribute[]): string {
  const hosts = new Map<string, BuildAttribute[]>();
  for (const a of attributes) hosts.set(a.host, [...(hosts.get(a.host) ?? []), a]);
  const entries = [...hosts].map(([host, attrs]) => {
    const fields = attrs.map((a) => {
      if (a.output === 'specialisation') {
        // NixOS: config.specialisation.<name>.configuration is the specialisation's evaluated config.
        const special = `cs.${nixString(host)}.config.specialisation.${nixString(a.specialisation ?? '')}.configuration.system.build.toplevel`;
        return `specialisation = let d = ${special}; in { drv = d.drvPath; out = d.outPath; };`;
      }
      const attr = installableAttribute(a.installable);
      return `${a.output} = let d = cs.${nixString(host)}.config.system.build.${nixString(attr)}; in { drv = d.drvPath; out = d.outPath; };`;
    });
    return `{ host = ${nixString(host)}; v = { ${fields.join(' ')} }; }`;
  });
  // Each host's entry is traced as soon as it is evaluated (`trace: fleet-evaluated {…}` on stderr):
  // `nix eval --json` forces the list's elements one after another, so the runner can build and
  // deploy a host while the same evaluator still works on the next ones, as nix-eval-jobs streams
  // its results.
  return `cs: map (e: builtins.trace ("${EVALUATED_MARK}" + builtins.toJSON e) e) [ ${entries.join(' ')} ]`;
}

/** What starts each streamed result of an evaluator on its stderr (after Nix's own `trace: `). */
export const EVALUATED_MARK = 'fleet-evaluated ';

/** One evaluator for many hosts: derivation and output paths of every attribute, as JSON (`impure`: with --impure). */
export function nixEvalCommand(commands: ToolCommands, flake: string, attributes: readonly BuildAttribute[], impure = false): PlannedCommand {
  return {
    purpose: 'evaluate',
    argv: [...commands.nix, 'eval', '--json', ...NIX_FEATURES, ...(impure ? ['--impure'] : []), `${flake}#nixosConfigurations`, '--apply', evalApplyFunction(attributes)],
  };
}

/** The attribute of `config.system.build` an installable names: `toplevel`, `diskoScript`, `diskoScriptNoDeps`. */
export function installableAttribute(installable: string): string {
  return installable.slice(installable.lastIndexOf('.') + 1);
}

/** The flake's locked identity (narHash, revision, locked inputs) and locked reference, as JSON. */
export function flakeMetadataCommand(commands: ToolCommands, flake: string): string[] {
  return [...commands.nix, 'flake', 'metadata', '--json', ...NIX_FEATURES, flake];
}

/** Nix's effective settings as JSON; `subcommand` is `show-config` before Nix 2.20, `config show` after. */
export function nixConfigCommand(commands: ToolCommands, subcommand: readonly string[]): string[] {
  return [...commands.nix, ...subcommand, '--json', ...NIX_FEATURES];
}

/** Names the paths that are not valid in the local store (a local check: no substituter is asked). */
export function storeValidityCommand(nixStore: string, paths: readonly string[]): string[] {
  return [nixStore, '--check-validity', '--print-invalid', ...paths];
}

/**
 * Realises the evaluated derivations (no evaluation). With a remote build host, Nix's own remote
 * building does the work (`--builders`, no local jobs) and copies the results back.
 */
export function nixBuildCommand(commands: ToolCommands, buildHost: Endpoint, buildHostSsh?: SshSettings): PlannedCommand {
  // Out-links in the run's result directory root what is built until the run ends (--no-link would
  // leave it to the next garbage collection, which may come before a later wave copies it).
  const argv: Arg[] = [...commands.nix, 'build', '--json', '--out-link', { ref: 'resultLink' }, '--keep-going', ...NIX_FEATURES];
  const command: PlannedCommand = { purpose: 'build', argv };
  if (buildHost.kind === 'ssh') {
    const port = buildHost.port === 22 ? '' : `?port=${buildHost.port}`;
    argv.push('--builders', `${nixSshStoreUri(buildHost)}${port}`, '--max-jobs', '0');
    if (buildHostSsh) command.env = { NIX_SSHOPTS: nixSshOpts(buildHostSsh) };
  }
  argv.push({ ref: 'derivations' });
  return command;
}

/**
 * A privileged command for a local target: as it is when fleet runs as root, else through the
 * host's escalation (sudo by default), as a non-root ssh user's would be.
 */
function locally(remote: readonly Arg[], localRoot: boolean, escalation: Escalation = DEFAULT_ESCALATION): Arg[] {
  return localRoot ? [...remote] : escalate<Arg>(escalation, remote);
}

/**
 * Whether the host's escalation is one nixos-rebuild-ng can do itself (`--sudo`, which runs
 * `sudo` without a password): with doas, run0, words of the user's own or a password, fleet
 * activates as the bash flavour does, through that escalation (nixos-rebuild-ng would ask for the
 * password on the terminal itself, under fleet's view).
 */
export function rebuildCanEscalate(escalation: Escalation): boolean {
  return escalation.method === 'sudo' && !escalation.askPassword;
}

/**
 * Activation of the prebuilt system in one mode. nixos-rebuild-ng takes it with --store-path (its
 * own copy finds the closure already there). For the bash nixos-rebuild, which can only evaluate
 * the flake again, fleet runs that tool's own target sequence itself (ACTIVATE_SCRIPT): one
 * evaluation per host in all.
 */
export function activateCommand(opts: {
  commands: ToolCommands;
  flavour: RebuildFlavour;
  mode: Mode;
  target: Endpoint;
  ssh?: SshSettings;
  /** fleet runs as root (a local target needs no sudo then). */
  localRoot: boolean;
  /** The target may substitute (nixos-rebuild's --use-substitutes). */
  substitutes?: boolean;
  /** How a local target's activation becomes root when fleet is not (a remote one's is in `ssh`). */
  escalation?: Escalation;
  /** Activate this specialisation of the system (switch and test only, as nixos-rebuild). */
  specialisation?: string;
}): PlannedCommand {
  const special = opts.specialisation ? ` specialisation ${opts.specialisation}` : '';
  if (opts.flavour === 'bash') {
    const remote: Arg[] = ['sh', '-c', ACTIVATE_SCRIPT, 'fleet-activate', { ref: 'toplevel' }, opts.mode, ...(opts.specialisation ? [opts.specialisation] : [])];
    return { purpose: `activate ${opts.mode}${special} (as nixos-rebuild does)`, argv: opts.ssh ? onTarget(opts.ssh, remote) : locally(remote, opts.localRoot, opts.escalation) };
  }
  const argv: Arg[] = [...opts.commands.nixosRebuild, opts.mode, '--store-path', { ref: 'toplevel' }];
  if (opts.specialisation) argv.push('--specialisation', opts.specialisation);
  // Its own copy finds the closure there (fleet copied it); said anyway, as the manifest asks.
  if (opts.substitutes && opts.target.kind === 'ssh') argv.push('--use-substitutes');
  const needsSudo = opts.target.kind === 'ssh' ? opts.target.user !== 'root' : !opts.localRoot;
  if (needsSudo) argv.push('--sudo');
  argv.push('--no-reexec');
  const command: PlannedCommand = { purpose: `nixos-rebuild ${opts.mode}${special}`, argv };
  if (opts.target.kind === 'ssh') {
    if (!opts.ssh) throw new Error('ssh target without ssh settings');
    argv.push('--target-host', destination(opts.target));
    // NIXOS_REBUILD_SSH_DEFAULT_OPTS replaces nixos-rebuild-ng's own connection sharing with ours.
    const socket = controlPath(opts.ssh);
    const sharing = socket ? `-o ControlMaster=auto -o ControlPath=${socket} -o ControlPersist=${CONTROL_PERSIST_SECONDS}` : '-o ControlMaster=no';
    command.env = { NIX_SSHOPTS: nixSshOpts(opts.ssh), NIXOS_REBUILD_SSH_DEFAULT_OPTS: sharing };
  }
  return command;
}

/** nixos-anywhere with the prebuilt disko script and system, as the manifest's bootstrap options say. */
export function nixosAnywhereCommand(opts: {
  commands: ToolCommands;
  target: SshEndpoint;
  ssh: SshSettings;
  bootstrap: BootstrapOptions;
  /** --extra-files directory (keys and the manifest's extra files), if any. */
  extraFilesDir?: string;
  /** false: --no-substitute-on-destination (nixos-anywhere substitutes on the destination by default). */
  substitutes?: boolean;
}): PlannedCommand {
  const { bootstrap } = opts;
  const argv: Arg[] = [
    ...opts.commands.nixosAnywhere,
    '--store-paths',
    { ref: 'diskoScript' },
    { ref: 'toplevel' },
    '--phases',
    bootstrap.phases.join(','),
    // The default `auto` runs `nix config show`, which Nix < 2.20 lacks, even though nothing is built.
    '--build-on',
    'local',
    '--ssh-port',
    String(opts.target.port),
  ];
  if (opts.ssh.identityFile) argv.push('-i', opts.ssh.identityFile);
  // nixos-anywhere pins UserKnownHostsFile=/dev/null itself; fleet verifies the installed key afterwards.
  argv.push('--ssh-option', `ConnectTimeout=${opts.ssh.connectTimeout}`);
  for (const option of opts.ssh.extraOptions) argv.push('--ssh-option', option);
  if (opts.extraFilesDir) argv.push('--extra-files', opts.extraFilesDir);
  for (const key of bootstrap.diskEncryptionKeys) argv.push('--disk-encryption-keys', key.remote, key.local);
  if (bootstrap.generateHardwareConfig) {
    argv.push('--generate-hardware-config', bootstrap.generateHardwareConfig.backend, bootstrap.generateHardwareConfig.path);
  }
  if (bootstrap.noDiskoDeps) argv.push('--no-disko-deps');
  if (bootstrap.noReboot) argv.push('--no-reboot');
  if (bootstrap.debug) argv.push('--debug');
  if (opts.substitutes === false) argv.push('--no-substitute-on-destination');
  argv.push('--target-host', destination(opts.target));
  return { purpose: 'nixos-anywhere', argv };
}

/** What the probe reports on: whether the built closure is there, and which key files. */
export interface ProbeArgs {
  /** Say whether the built system's closure is already in the target's store. */
  closure: boolean;
  keyDir: string;
  keyNames: readonly string[];
  /** Secret files whose keyed digest, owner, group and mode are asked for (the digest key is `<digestKey>`). */
  secrets?: readonly string[];
}

const NO_PROBE_EXTRAS: ProbeArgs = { closure: false, keyDir: '/etc/ssh', keyNames: [] };

function probeArgs(args: ProbeArgs): Arg[] {
  const secrets: Arg[] = args.secrets && args.secrets.length > 0 ? ['--secrets', { ref: 'digestKey' }, ...args.secrets] : [];
  return [args.closure ? { ref: 'toplevel' } : '-', args.keyDir, ...args.keyNames, ...secrets];
}

/** The probe: one ssh call (or a local sh for a local target) that reports the facts guards need. */
export function probeCommand(
  ssh: SshSettings | undefined,
  args: ProbeArgs = NO_PROBE_EXTRAS,
  overrides: string[] = [],
  purpose = 'probe',
): PlannedCommand {
  return { purpose, argv: onTarget(ssh, ['sh', '-c', PROBE_SCRIPT, 'fleet-probe', ...probeArgs(args)], overrides) };
}

/** fleet status's probe, with the history record of the live system. */
export function statusProbeCommand(ssh: SshSettings | undefined, args: ProbeArgs = NO_PROBE_EXTRAS): PlannedCommand {
  return { purpose: 'probe', argv: onTarget(ssh, ['sh', '-c', STATUS_PROBE_SCRIPT, 'fleet-status', HISTORY_FILE, ...probeArgs(args)]) };
}

/**
 * Appends the run-time `<historyRecord>` to the host's deploy history (APPEND_HISTORY_SCRIPT),
 * over ssh, or on this machine for a local target (escalated unless fleet runs as root).
 */
export function appendHistoryCommand(ssh: SshSettings | undefined, localRoot: boolean, escalation?: Escalation): PlannedCommand {
  const remote: Arg[] = ['sh', '-c', APPEND_HISTORY_SCRIPT, 'fleet-history', HISTORY_FILE, { ref: 'historyRecord' }];
  const argv = ssh ? onTarget(ssh, remote) : locally(remote, localRoot, escalation);
  return { purpose: 'record the deploy in the host history', argv };
}

/**
 * ssh running a remote argv, or the argv itself for a local target. Literal words are quoted once
 * (quoteRemoteCommand); a run-time ref stays a ref marked remote, which resolveArgv quotes the same way.
 */
export function onTarget(ssh: SshSettings | undefined, remote: readonly Arg[], overrides: string[] = []): Arg[] {
  if (!ssh) return [...remote];
  const out: Arg[] = [...sshBase(ssh, overrides)];
  let literal: string[] = [];
  for (const word of asRoot<Arg>(ssh, remote)) {
    if (typeof word === 'string') {
      literal.push(word);
      continue;
    }
    if (literal.length > 0) out.push(quoteRemoteCommand(literal));
    literal = [];
    out.push({ ref: word.ref, remote: true });
  }
  if (literal.length > 0) out.push(quoteRemoteCommand(literal));
  return out;
}

/**
 * The deploy lock and the probe in one ssh session: it prints `locked` and the probe's facts, then
 * holds flock on the target until fleet closes its stdin.
 */
export function lockCommand(ssh: SshSettings, waitSeconds: number, holder: string, probe: ProbeArgs = NO_PROBE_EXTRAS): PlannedCommand {
  return {
    purpose: 'lock and probe',
    argv: onTarget(ssh, ['sh', '-c', LOCK_SCRIPT, 'fleet-lock', String(waitSeconds), holder, ...probeArgs(probe)]),
    stdin: 'held open until the host is done',
  };
}

/**
 * Copies the built closure to the target before anything is activated (a failed copy changes
 * nothing). With `substitutes`, the target first substitutes what its own binary caches have (Nix
 * falls back to sending a path no cache gives it); only the rest crosses this machine's uplink.
 */
export function copyClosureCommand(commands: ToolCommands, ssh: SshSettings, substitutes: boolean, nixVersion?: string): PlannedCommand {
  return {
    purpose: substitutes ? 'copy closure (the target substitutes what its caches have)' : 'copy closure',
    argv: [...commands.nix, ...NIX_FEATURES, 'copy', ...(substitutes ? ['--substitute-on-destination'] : []), '--to', nixSshStoreUri(ssh.endpoint, nixVersion), { ref: 'toplevel' }],
    env: { NIX_SSHOPTS: nixSshOpts(ssh) },
  };
}

/** The NAR sizes of the store paths a copy sent (from this machine's store), to say how much was uploaded. */
export function uploadSizesCommand(commands: ToolCommands): PlannedCommand {
  return { purpose: 'size what the copy uploaded', argv: [...commands.nix, ...NIX_FEATURES, 'path-info', '--json', { ref: 'uploadedPaths' }] };
}

/**
 * `buildHost: target`, first half: the derivations (and the derivations they need, not their
 * outputs) go to the target.
 */
export function copyDerivationsCommand(commands: ToolCommands, ssh: SshSettings): PlannedCommand {
  return {
    purpose: 'copy derivations to the target',
    argv: [...commands.nix, ...NIX_FEATURES, 'copy', '--derivation', '--to', nixSshStoreUri(ssh.endpoint), { ref: 'derivations' }],
    env: { NIX_SSHOPTS: nixSshOpts(ssh) },
  };
}

/**
 * `buildHost: target`, second half: the target realises them, with its own substituters and
 * builders (nix-store --realise of a bare .drv: the same on every Nix version); it prints the
 * output paths.
 */
export function realiseOnTargetCommand(ssh: SshSettings): PlannedCommand {
  return { purpose: 'build on the target', argv: onTarget(ssh, ['nix-store', '--realise', { ref: 'derivations' }]) };
}

/** Signs a closure in this machine's store with the cache's key before it is pushed. */
export function signClosureCommand(commands: ToolCommands, keyFile: string): PlannedCommand {
  return { purpose: 'sign for the cache', argv: [...commands.nix, ...NIX_FEATURES, 'store', 'sign', '--key-file', keyFile, '--recursive', { ref: 'toplevels' }] };
}

/** Pushes closures to the binary cache (any store URL `nix copy --to` takes); paths it has are skipped. */
export function cachePushCommand(commands: ToolCommands, url: string): PlannedCommand {
  return { purpose: 'push to the cache', argv: [...commands.nix, ...NIX_FEATURES, 'copy', '--to', url, { ref: 'toplevels' }] };
}

/** Roots every output the evaluation cache answered for the run, in one call (Nix names the links `<resultLink>`, `-2`, …). */
export function rootCachedCommand(): PlannedCommand {
  return { purpose: 'root the cached systems for the run', argv: ['nix-store', '--add-root', { ref: 'resultLink' }, '--indirect', '--realise', { ref: 'cachedOutputs' }] };
}

/** --keep-result: a GC root of the host's built system, kept after the run (colmena's --keep-result). */
export function keepResultCommand(): PlannedCommand {
  return { purpose: 'keep the result', argv: ['nix-store', '--add-root', { ref: 'resultLink' }, '--indirect', '--realise', { ref: 'toplevel' }] };
}

/** On the target (where both closures are): lists the live system's closure and the built one's, with sizes. */
export function diffCommand(ssh: SshSettings | undefined): PlannedCommand {
  return { purpose: 'list both closures', argv: onTarget(ssh, ['sh', '-c', DIFF_SCRIPT, 'fleet-diff', { ref: 'toplevel' }]) };
}

/** Arms the rollback watchdog on the target (detached from the session), for a deploy id known at run time. */
export function armWatchdogCommand(ssh: SshSettings, timeoutSeconds: number, mode: 'switch' | 'test'): PlannedCommand {
  return {
    purpose: 'arm watchdog',
    argv: onTarget(ssh, ['sh', '-c', ARM_WATCHDOG_SCRIPT, 'fleet-arm', { ref: 'deployId' }, String(timeoutSeconds), mode]),
  };
}

/**
 * The bash flavour's live activation: one call on the target arms the watchdog (ARM_WATCHDOG_SCRIPT,
 * passed whole) and then activates as nixos-rebuild does; nothing activates unless it is armed.
 */
export function armedActivateCommand(ssh: SshSettings, timeoutSeconds: number, mode: 'switch' | 'test', specialisation?: string): ArmingActivateCommand {
  const remote: Arg[] = ['sh', '-c', ARMED_ACTIVATE_SCRIPT, 'fleet-armed-activate', ARM_WATCHDOG_SCRIPT, { ref: 'deployId' }, String(timeoutSeconds), { ref: 'toplevel' }, mode, ...(specialisation ? [specialisation] : [])];
  const special = specialisation ? ` specialisation ${specialisation}` : '';
  return { purpose: `arm watchdog, activate ${mode}${special} (as nixos-rebuild does)`, argv: onTarget(ssh, remote), arms: 'watchdog' };
}

/**
 * Whether the built system has the specialisation on the target (the closure is there by then),
 * and its store path: the system the host runs live once it is activated (SPECIALISATION_SCRIPT).
 */
export function specialisationCommand(ssh: SshSettings | undefined, name: string): PlannedCommand {
  // Reading the store needs no root: a local target runs it as fleet's own user.
  const remote: Arg[] = ['sh', '-c', SPECIALISATION_SCRIPT, 'fleet-specialisation', { ref: 'toplevel' }, name];
  return { purpose: `find specialisation ${name}`, argv: onTarget(ssh, remote) };
}

/** Over a brand-new connection (no shared master): confirms the watchdog, then answers the probe. */
export function confirmWatchdogCommand(ssh: SshSettings, probe: ProbeArgs = NO_PROBE_EXTRAS): PlannedCommand {
  return {
    purpose: 'confirm watchdog and verify',
    argv: onTarget(ssh, ['sh', '-c', CONFIRM_WATCHDOG_SCRIPT, 'fleet-confirm', { ref: 'deployId' }, ...probeArgs(probe)], FRESH_CONNECTION),
  };
}

/** push-keys: one ssh call; stdin carries `<name> <mode> <base64>` lines (see PUSH_KEYS_SCRIPT). */
export function pushKeysCommand(ssh: SshSettings | undefined, destinationDir: string): PlannedCommand {
  return { purpose: 'push keys', argv: onTarget(ssh, ['sh', '-c', PUSH_KEYS_SCRIPT, 'fleet-push-keys', destinationDir]), stdin: 'key files' };
}

/** `<words> <base64 of content>\n` per file, as one Buffer (the content never becomes a string). */
function recordLines(files: readonly { words: string; content: Buffer }[]): Buffer {
  const parts = files.flatMap((f) => [Buffer.from(`${f.words} `), base64Bytes(f.content), Buffer.from('\n')]);
  const input = Buffer.concat(parts);
  for (const part of parts) part.fill(0);
  return input;
}

/** The stdin of push-keys: one line per file. Holds key material: never log it; overwrite it when sent. */
export function pushKeysInput(files: readonly { name: string; mode: string; content: Buffer }[]): Buffer {
  return recordLines(files.map((f) => ({ words: `${f.name} ${f.mode}`, content: f.content })));
}

/**
 * Uploads secrets: one ssh call (or a local sh, escalated when fleet is not root) naming
 * every file of the upload in its argv (path, owner, group, mode: no content); stdin carries
 * `<index> <base64>` records for the files to write (see SECRETS_PUSH_SCRIPT).
 */
export function pushSecretsCommand(ssh: SshSettings | undefined, secrets: readonly PlannedSecret[], localRoot: boolean, when: string, escalation?: Escalation): PlannedCommand {
  const remote = ['sh', '-c', SECRETS_PUSH_SCRIPT, 'fleet-push-secrets', ...secrets.flatMap((s) => [s.destination, s.owner, s.group, s.mode])];
  const argv = ssh ? onTarget(ssh, remote) : locally(remote, localRoot, escalation);
  return { purpose: `upload secrets ${when}`, argv, stdin: 'secret contents (only those missing or different on the target)' };
}

/** The stdin of a secrets upload: one `<index> <base64>` line per file. Holds secret content: never log it; overwrite it when sent. */
export function pushSecretsInput(files: readonly { index: number; content: Buffer }[]): Buffer {
  return recordLines(files.map((f) => ({ words: String(f.index), content: f.content })));
}

/** ssh-keygen making a new ed25519 host key without a passphrase. */
export function keygenCommand(path: string, host: string): PlannedCommand {
  return { purpose: 'generate host key', argv: ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${host}`, '-f', path] };
}

/**
 * Substitutes run-time values into an argv (a list value becomes several words; a remote ref is
 * quoted for the remote shell); an unknown ref is a programming error.
 */
export function resolveArgv(argv: readonly Arg[], values: Partial<Record<string, string | readonly string[]>>): string[] {
  return argv.flatMap((arg) => {
    if (typeof arg === 'string') return [arg];
    const value = values[arg.ref];
    if (value === undefined) throw new Error(`no value for <${arg.ref}>`);
    const words = typeof value === 'string' ? [value] : [...value];
    return arg.remote ? [quoteRemoteCommand(words)] : words;
  });
}

/** `^*` (build all outputs of a .drv) exists from Nix 2.13; older Nix builds a bare .drv's outputs. */
export function derivationSuffixFor(nixVersion: string | undefined): '' | '^*' {
  const match = nixVersion?.match(/(\d+)\.(\d+)/);
  if (!match) return '^*';
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 2 || (major === 2 && minor >= 13) ? '^*' : '';
}

/** Shows an argv with refs as `<name>`. */
export function argvForDisplay(argv: readonly Arg[]): string[] {
  return argv.map((arg) => (typeof arg === 'string' ? arg : `<${arg.ref}>`));
}
