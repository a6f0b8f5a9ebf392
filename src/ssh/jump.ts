// The jump hop: the ssh config fleet writes for a host reached through a jump host, so that the
// hop gets fleet's own settings too (ssh gives a ProxyJump none of the command line's -o options).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { SshEndpoint } from '../manifest/inventory.js';

/** The Host alias of the jump host in fleet's ssh config, named by `-o ProxyJump=`. */
export const JUMP_ALIAS = 'fleet-jump';

/** How fleet reaches a host's jump host. */
export interface JumpSettings {
  endpoint: SshEndpoint;
  identityFile?: string;
  /** Pinned public keys of the jump host (`<type> <base64>`), written to fleet's known_hosts. */
  hostKeys: string[];
  /** fleet's known_hosts when keys are pinned; empty: the user's own known_hosts files. */
  knownHostsFiles: string[];
  /** The ssh config file (jumpConfigText) every ssh to the host is given with -F. */
  configFile: string;
}

/** A value for an ssh_config line: `%` doubled (ssh expands %-tokens there); blanks and quotes refused. */
function configValue(value: string, what: string): string {
  if (/[\s"\\]/.test(value)) throw new Error(`${what} ${JSON.stringify(value)} contains white space, a quote or a backslash, which fleet does not write into an ssh config`);
  return value.replace(/%/g, '%%');
}

/**
 * The ssh config for one jump host: its block (`Host fleet-jump`) with fleet's settings, then the
 * user's own and the system's config, which -F would otherwise leave out (ssh keeps the first value
 * of each option, so fleet's win for the jump host and nothing else changes). OpenSSH hands -F on
 * to the ssh it starts for ProxyJump, so the hop reads this block.
 */
export function jumpConfigText(jump: Omit<JumpSettings, 'configFile'>, connectTimeout: number): string {
  const { endpoint } = jump;
  const lines = [
    `# written by fleet for one run: the jump host ${endpoint.user}@${endpoint.host}:${endpoint.port} with fleet's settings`,
    `Host ${JUMP_ALIAS}`,
    `  HostName ${configValue(endpoint.host, 'jump host')}`,
    `  Port ${endpoint.port}`,
    `  User ${configValue(endpoint.user, 'jump user')}`,
    '  BatchMode yes',
    ...(jump.knownHostsFiles.length > 0
      ? [`  UserKnownHostsFile ${jump.knownHostsFiles.map((f) => configValue(f, 'known_hosts file')).join(' ')}`, '  GlobalKnownHostsFile /dev/null']
      : []),
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    `  ConnectTimeout ${connectTimeout}`,
    '  ServerAliveInterval 5',
    '  ServerAliveCountMax 3',
    ...(jump.identityFile ? [`  IdentityFile ${configValue(jump.identityFile, 'identity file')}`, '  IdentitiesOnly yes'] : []),
    // The hop is a connection of its own each time; the target's connection is the one shared.
    '  ControlMaster no',
    '  ControlPath none',
    'Match all',
    'Include ~/.ssh/config',
    'Include /etc/ssh/ssh_config',
    '',
  ];
  return lines.join('\n');
}

/** Where a jump host's config goes in the run's private directory: named by its content. */
export function jumpConfigFile(runtimeDir: string, jump: Omit<JumpSettings, 'configFile'>, connectTimeout: number): string {
  const id = createHash('sha256').update(jumpConfigText(jump, connectTimeout)).digest('hex').slice(0, 12);
  return posix.join(runtimeDir, `jump-${id}.conf`);
}
