// Pure argv builders for every tool fleet drives, per ../shared/CONTRACTS.md. Nothing here runs anything.
import type { BootstrapOptions, Endpoint, Mode, SshEndpoint, ToolCommands } from '../manifest/inventory.js';
import { destination, FRESH_CONNECTION, nixSshOpts, quoteRemoteCommand, sshBase, withSudo, type SshSettings } from '../ssh/index.js';
import { ARM_WATCHDOG_SCRIPT, CONFIRM_WATCHDOG_SCRIPT, LOCK_SCRIPT, PROBE_SCRIPT, PUSH_KEYS_SCRIPT } from './remote-scripts.js';
import type { Arg, BuildAttribute, PlannedCommand } from './types.js';

/** Which nixos-rebuild is installed: nixos-rebuild-ng (has --store-path) or the older bash one. */
export type RebuildFlavour = 'ng' | 'bash';

const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/** `ssh://user@host` for Nix, with an IPv6 address in brackets (the port travels in NIX_SSHOPTS). */
export function nixSshStoreUri(endpoint: SshEndpoint): string {
  const at = destination(endpoint).lastIndexOf('@');
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `ssh://${destination(endpoint).slice(0, at)}@${host}`;
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

/** A Nix string literal (JSON escapes, plus `$` so `${` cannot interpolate). */
function nixString(text: string): string {
  return JSON.stringify(text).replace(/\$/g, '\\$');
}

/**
 * The `--apply` function that picks, in one evaluation, each attribute's derivation and output
 * path: `{ "<host>" = { toplevel = { drv = …; out = …; }; diskoScript = …; }; }`.
 */
export function evalApplyFunction(attributes: readonly BuildAttribute[]): string {
  const hosts = new Map<string, BuildAttribute[]>();
  for (const a of attributes) hosts.set(a.host, [...(hosts.get(a.host) ?? []), a]);
  const entries = [...hosts].map(([host, attrs]) => {
    const fields = attrs.map((a) => {
      const attr = a.installable.slice(a.installable.lastIndexOf('.') + 1);
      return `${a.output} = let d = cs.${nixString(host)}.config.system.build.${nixString(attr)}; in { drv = d.drvPath; out = d.outPath; };`;
    });
    return `${nixString(host)} = { ${fields.join(' ')} };`;
  });
  return `cs: { ${entries.join(' ')} }`;
}

/** One evaluator for many hosts: derivation and output paths of every attribute, as JSON. */
export function nixEvalCommand(commands: ToolCommands, flake: string, attributes: readonly BuildAttribute[]): PlannedCommand {
  return {
    purpose: 'evaluate',
    argv: [...commands.nix, 'eval', '--json', ...NIX_FEATURES, `${flake}#nixosConfigurations`, '--apply', evalApplyFunction(attributes)],
  };
}

/**
 * Realises the evaluated derivations (no evaluation). With a remote build host, Nix's own remote
 * building does the work (`--builders`, no local jobs) and copies the results back.
 */
export function nixBuildCommand(commands: ToolCommands, buildHost: Endpoint, buildHostSsh?: SshSettings): PlannedCommand {
  const argv: Arg[] = [...commands.nix, 'build', '--json', '--no-link', '--keep-going', ...NIX_FEATURES];
  const command: PlannedCommand = { purpose: 'build', argv };
  if (buildHost.kind === 'ssh') {
    const port = buildHost.port === 22 ? '' : `?port=${buildHost.port}`;
    argv.push('--builders', `${nixSshStoreUri(buildHost)}${port}`, '--max-jobs', '0');
    if (buildHostSsh) command.env = { NIX_SSHOPTS: nixSshOpts(buildHostSsh) };
  }
  argv.push({ ref: 'derivations' });
  return command;
}

/** nixos-rebuild for one host in one mode, with the prebuilt system when the tool can take it. */
export function nixosRebuildCommand(opts: {
  commands: ToolCommands;
  flavour: RebuildFlavour;
  mode: Mode;
  flake: string;
  host: string;
  target: Endpoint;
  ssh?: SshSettings;
  /** fleet runs as root (a local target needs no sudo then). */
  localRoot: boolean;
}): PlannedCommand {
  const argv: Arg[] = [...opts.commands.nixosRebuild, opts.mode];
  if (opts.flavour === 'ng') {
    argv.push('--store-path', { ref: 'toplevel' });
  } else {
    // The bash nixos-rebuild cannot take a store path; it evaluates the flake again (--fast: no re-exec).
    argv.push('--flake', `${opts.flake}#${opts.host}`, '--fast');
  }
  const needsSudo = opts.target.kind === 'ssh' ? opts.target.user !== 'root' : !opts.localRoot;
  if (needsSudo) argv.push(opts.flavour === 'ng' ? '--sudo' : '--use-remote-sudo');
  if (opts.flavour === 'ng') argv.push('--no-reexec');
  const command: PlannedCommand = { purpose: `nixos-rebuild ${opts.mode}`, argv };
  if (opts.target.kind === 'ssh') {
    if (!opts.ssh) throw new Error(`host ${opts.host}: ssh target without ssh settings`);
    argv.push('--target-host', destination(opts.target));
    // NIXOS_REBUILD_SSH_DEFAULT_OPTS replaces nixos-rebuild-ng's own connection sharing with ours.
    const sharing = opts.ssh.controlDir
      ? `-o ControlMaster=auto -o ControlPath=${opts.ssh.controlDir}/%C -o ControlPersist=60`
      : '-o ControlMaster=no';
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
}): PlannedCommand {
  const { bootstrap } = opts;
  const argv: Arg[] = [
    ...opts.commands.nixosAnywhere,
    '--store-paths',
    { ref: 'diskoScript' },
    { ref: 'toplevel' },
    '--phases',
    bootstrap.phases.join(','),
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
  argv.push('--target-host', destination(opts.target));
  return { purpose: 'nixos-anywhere', argv };
}

/** The probe: one ssh call (or a local sh for a local target) that reports the facts guards need. */
export function probeCommand(
  ssh: SshSettings | undefined,
  keyDir: string,
  keyNames: readonly string[],
  overrides: string[] = [],
  purpose = 'probe',
): PlannedCommand {
  return { purpose, argv: onTarget(ssh, ['sh', '-c', PROBE_SCRIPT, 'fleet-probe', keyDir, ...keyNames], overrides) };
}

/** ssh running a remote argv (quoted once), or the argv itself for a local target. */
function onTarget(ssh: SshSettings | undefined, remote: readonly string[], overrides: string[] = []): string[] {
  if (!ssh) return [...remote];
  return [...sshBase(ssh, overrides), quoteRemoteCommand(withSudo(ssh.endpoint, remote))];
}

/** The deploy lock: an ssh session holding flock on the target until fleet closes its stdin. */
export function lockCommand(ssh: SshSettings, waitSeconds: number, holder: string): PlannedCommand {
  return {
    purpose: 'lock',
    argv: onTarget(ssh, ['sh', '-c', LOCK_SCRIPT, 'fleet-lock', String(waitSeconds), holder]),
    stdin: 'held open until the host is done',
  };
}

/** Copies the built closure to the target before anything is activated (a failed copy changes nothing). */
export function copyClosureCommand(commands: ToolCommands, ssh: SshSettings): PlannedCommand {
  return {
    purpose: 'copy closure',
    argv: [...commands.nix, ...NIX_FEATURES, 'copy', '--to', nixSshStoreUri(ssh.endpoint), { ref: 'toplevel' }],
    env: { NIX_SSHOPTS: nixSshOpts(ssh) },
  };
}

/**
 * Arms the rollback watchdog on the target (detached from the session). The deploy id is only
 * known at run time; it is one word of [0-9a-f], so ssh may append it to the quoted line as is.
 */
export function armWatchdogCommand(ssh: SshSettings, timeoutSeconds: number, mode: 'switch' | 'test'): PlannedCommand {
  const head = quoteRemoteCommand(withSudo(ssh.endpoint, ['sh', '-c', ARM_WATCHDOG_SCRIPT, 'fleet-arm']));
  return { purpose: 'arm watchdog', argv: [...sshBase(ssh), head, { ref: 'deployId' }, String(timeoutSeconds), mode] };
}

/** Confirms the watchdog over a brand-new connection (no shared master). */
export function confirmWatchdogCommand(ssh: SshSettings): PlannedCommand {
  const head = quoteRemoteCommand(withSudo(ssh.endpoint, ['sh', '-c', CONFIRM_WATCHDOG_SCRIPT, 'fleet-confirm']));
  return { purpose: 'confirm watchdog', argv: [...sshBase(ssh, FRESH_CONNECTION), head, { ref: 'deployId' }] };
}

/** push-keys: one ssh call; stdin carries `<name> <mode> <base64>` lines (see PUSH_KEYS_SCRIPT). */
export function pushKeysCommand(ssh: SshSettings | undefined, destinationDir: string): PlannedCommand {
  return { purpose: 'push keys', argv: onTarget(ssh, ['sh', '-c', PUSH_KEYS_SCRIPT, 'fleet-push-keys', destinationDir]), stdin: 'key files' };
}

/** The stdin of push-keys: one line per file. Holds key material: never log it. */
export function pushKeysInput(files: readonly { name: string; mode: string; content: Buffer }[]): string {
  return files.map((f) => `${f.name} ${f.mode} ${f.content.toString('base64')}\n`).join('');
}

/** ssh-keygen making a new ed25519 host key without a passphrase. */
export function keygenCommand(path: string, host: string): PlannedCommand {
  return { purpose: 'generate host key', argv: ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${host}`, '-f', path] };
}

/** Substitutes run-time values into an argv (a list value becomes several words); an unknown ref is a programming error. */
export function resolveArgv(argv: readonly Arg[], values: Partial<Record<string, string | readonly string[]>>): string[] {
  return argv.flatMap((arg) => {
    if (typeof arg === 'string') return [arg];
    const value = values[arg.ref];
    if (value === undefined) throw new Error(`no value for <${arg.ref}>`);
    return typeof value === 'string' ? [value] : [...value];
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
