// ssh argv: the options fleet always passes, per host, and the commands built on them.
import type { Escalation, SshEndpoint } from '../manifest/inventory.js';
import { escalate } from './escalation.js';
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
  /** How a non-root user becomes root for privileged commands; absent: `sudo -n --`. */
  escalation?: Escalation;
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

/** The shared master's socket (ssh expands %C), undefined without sharing. */
export function controlPath(settings: SshSettings): string | undefined {
  if (!settings.controlDir) return undefined;
  return `${settings.controlDir}/%C`;
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

/** Full ssh argv running `remoteArgv` on the host as root, quoted once; escalated for a non-root user. */
export function sshCommand(
  settings: SshSettings,
  remoteArgv: readonly string[],
  overrides: string[] = [],
): string[] {
  return [...sshBase(settings, overrides), quoteRemoteCommand(asRoot(settings, remoteArgv))];
}

/** `argv` as root on the host: as it is for root, else through the host's escalation (sudo by default). */
export function asRoot<Word = string>(settings: Pick<SshSettings, 'endpoint' | 'escalation'>, argv: readonly Word[]): (Word | string)[] {
  if (settings.endpoint.user === 'root') return [...argv];
  return escalate(settings.escalation ?? DEFAULT_ESCALATION, argv);
}

/** What a manifest without privilegeEscalation gets. */
export const DEFAULT_ESCALATION: Escalation = { method: 'sudo', askPassword: false };

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
