// ssh argv: the options fleet always passes, per host, and the commands built on them.
import type { SshEndpoint } from '../manifest/inventory.js';
import { JUMP_ALIAS, type JumpSettings } from './jump.js';
import { quoteRemoteCommand } from './quote.js';

/** How fleet reaches one host over ssh. */
export interface SshSettings {
  endpoint: SshEndpoint;
  identityFile?: string;
  /**
   * fleet's own known_hosts file (pinned keys, or the TOFU file); empty: ssh's own defaults
   * (~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts), for a host whose key fleet does not know.
   */
  knownHostsFiles: string[];
  /** accept-new (trust on first use) instead of yes. */
  trustOnFirstUse: boolean;
  /** Directory for ControlPath sockets; undefined = no connection sharing. */
  controlDir?: string;
  /** Extra `Key=Value` options from the manifest. */
  extraOptions: string[];
  /** The jump host every connection goes through (its own settings in a config given with -F). */
  jump?: JumpSettings;
  connectTimeout: number;
  /**
   * `fast-first`: the host's shared connection carries no key or secret, so its master may take
   * curve25519 first (`<sessionKex>`, ssh/kex.ts) and lives at a ControlPath of its own, which
   * commands that carry secrets never use (withoutSessionKex). Absent: ssh's key exchange as it is.
   */
  sessionKex?: 'fast-first';
}

/**
 * Seconds a shared master outlives its last session. Short: each host's lock session keeps its
 * master alive for the whole sequence anyway, and a fleet killed with -9 leaves none for long.
 */
export const CONTROL_PERSIST_SECONDS = 10;

/** Connection sharing off: the rollback confirmation must prove a brand-new connection works. */
export const FRESH_CONNECTION = ['ControlMaster=no', 'ControlPath=none'];

function assertSafeHost(host: string): void {
  // A leading dash would make ssh read the host as an option (e.g. -oProxyCommand=…).
  if (host.startsWith('-') || /[\s\0]/.test(host)) {
    throw new Error(`refusing unsafe ssh host ${JSON.stringify(host)}`);
  }
}

/** The `-o Key=Value` list for a host, without the destination. Order matters: ssh keeps the first value. */
export function sshOptions(settings: SshSettings, overrides: string[] = []): string[] {
  const options: string[] = [
    ...overrides,
    // Host-key policy first: ssh keeps the first value, so nothing later can weaken it.
    'BatchMode=yes',
    ...(settings.knownHostsFiles.length > 0 ? [`UserKnownHostsFile=${settings.knownHostsFiles.join(' ')}`, 'GlobalKnownHostsFile=/dev/null'] : []),
    `StrictHostKeyChecking=${settings.trustOnFirstUse ? 'accept-new' : 'yes'}`,
    'UpdateHostKeys=no',
    ...(settings.jump ? [`ProxyJump=${JUMP_ALIAS}`] : []),
    // The manifest's options come before fleet's defaults so they can tune timeouts and the like.
    ...settings.extraOptions,
    `ConnectTimeout=${settings.connectTimeout}`,
    'ServerAliveInterval=5',
    'ServerAliveCountMax=3',
  ];
  const socket = controlPath(settings);
  if (socket) options.push('ControlMaster=auto', `ControlPath=${socket}`, `ControlPersist=${CONTROL_PERSIST_SECONDS}`);
  if (settings.identityFile) options.push(`IdentityFile=${settings.identityFile}`, 'IdentitiesOnly=yes');
  // -F: the jump host's config (which includes the user's own and the system's).
  return [...(settings.jump ? ['-F', settings.jump.configFile] : []), ...options.flatMap((o) => ['-o', o])];
}

/**
 * The shared master's socket (ssh expands %C), undefined without sharing. A master whose key
 * exchange fleet chose (`fast-first`) has a socket of its own: no command that carries a secret
 * can ever be multiplexed over it, not even one of another run sharing the directory.
 */
export function controlPath(settings: SshSettings): string | undefined {
  if (!settings.controlDir) return undefined;
  return `${settings.controlDir}/%C${settings.sessionKex === 'fast-first' ? '.fast' : ''}`;
}

/** The settings for a command that carries keys or secrets: ssh's own key exchange, its own master. */
export function withoutSessionKex(settings: SshSettings): SshSettings {
  if (settings.sessionKex === undefined) return settings;
  const { sessionKex: _fast, ...rest } = settings;
  return rest;
}

/** `user@host` as ssh and nix expect it (IPv6 hosts bare for ssh). */
export function destination(endpoint: SshEndpoint): string {
  assertSafeHost(endpoint.host);
  return `${endpoint.user}@${endpoint.host}`;
}

/** ssh argv prefix for a host: everything but the remote command. */
export function sshBase(settings: SshSettings, overrides: string[] = []): string[] {
  return [
    'ssh',
    ...sshOptions(settings, overrides),
    '-p',
    String(settings.endpoint.port),
    '--',
    destination(settings.endpoint),
  ];
}

/** Full ssh argv running `remoteArgv` on the host, quoted once; `sudo -n` for a non-root user. */
export function sshCommand(
  settings: SshSettings,
  remoteArgv: readonly string[],
  overrides: string[] = [],
): string[] {
  return [...sshBase(settings, overrides), quoteRemoteCommand(withSudo(settings.endpoint, remoteArgv))];
}

/** Prefixes `sudo -n --` when the ssh user is not root. */
export function withSudo<Word = string>(endpoint: SshEndpoint, argv: readonly Word[]): (Word | string)[] {
  return endpoint.user === 'root' ? [...argv] : ['sudo', '-n', '--', ...argv];
}

/**
 * NIX_SSHOPTS for nix copy and nixos-rebuild. Nix splits it on white space without quote
 * handling, so a value with white space cannot be carried and is refused.
 */
export function nixSshOpts(settings: SshSettings): string {
  const words = [...sshOptions(settings), '-p', String(settings.endpoint.port)];
  const bad = words.find((w) => /\s/.test(w));
  if (bad !== undefined) {
    throw new Error(`ssh option ${JSON.stringify(bad)} contains white space, which NIX_SSHOPTS cannot carry`);
  }
  return words.join(' ');
}

/**
 * Retires a shared master connection (after a reboot, and at the end of a run). `stop` (the
 * default) removes the socket and lets the master end with its last session, so a second fleet run
 * sharing the same ControlPath keeps its sessions; `exit` cuts them all at once.
 */
export function sshControlExit(settings: SshSettings, operation: 'stop' | 'exit' = 'stop'): string[] {
  return ['ssh', ...sshOptions(settings), '-p', String(settings.endpoint.port), '-O', operation, '--', destination(settings.endpoint)];
}
