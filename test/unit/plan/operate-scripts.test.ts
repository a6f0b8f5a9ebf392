import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  execCommand,
  healthCheckCommand,
  interactiveSshCommand,
  nixosInstallCommand,
  rebootCommand,
  rollbackCommand,
  userCommandArgv,
} from '../../../src/plan/index.js';
import type { SshSettings } from '../../../src/ssh/index.js';

const ssh: SshSettings = {
  endpoint: { kind: 'ssh', user: 'root', host: '10.0.0.1', port: 2222 },
  identityFile: '/keys/id',
  knownHostsFiles: ['/run/fleet/known_hosts'],
  trustOnFirstUse: false,
  controlDir: '/tmp/fleet-x',
  extraOptions: [],
  connectTimeout: 7,
};
const HOSTILE = ["it's", 'a b', '$(touch /tmp/pwned)', '`id`', 'x\ny', '"q"', ';', '*', '-n', ''];

/** What the remote user's shell makes of the one command string ssh sends. */
function remoteWords(line: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${line}; for w in "$@"; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('operate argv builders', () => {
  it('exec: several words are an argv quoted once; hostile words arrive intact', () => {
    const argv = execCommand(ssh, ['printf', '%s\\n', ...HOSTILE]);
    expect(remoteWords(argv.at(-1)!)).toEqual(['printf', '%s\\n', ...HOSTILE]);
    // Pinned host key, identity and port; a fresh connection, no master left behind.
    expect(argv).toEqual(expect.arrayContaining(['StrictHostKeyChecking=yes', 'UserKnownHostsFile=/run/fleet/known_hosts', 'IdentityFile=/keys/id', '-p', '2222']));
    expect(argv).toContain('ControlMaster=no');
    expect(argv.join(' ')).not.toMatch(/ControlPersist/);
    expect(argv.at(-2)).toBe('root@10.0.0.1');
  });

  it('exec: one word runs with sh -c, like a manifest health check string', () => {
    expect(userCommandArgv(['uptime; df -h /'])).toEqual(['sh', '-c', 'uptime; df -h /']);
    expect(userCommandArgv(['ls', '-l'])).toEqual(['ls', '-l']);
    expect(remoteWords(execCommand(ssh, ["echo '$HOME'"]).at(-1)!)).toEqual(['sh', '-c', "echo '$HOME'"]);
    expect(() => userCommandArgv([])).toThrow(/no command/);
  });

  it('ssh: no command is a login shell (no remote command word)', () => {
    const argv = interactiveSshCommand(ssh, []);
    expect(argv.at(-1)).toBe('root@10.0.0.1');
    expect(argv.at(-2)).toBe('--');
    expect(remoteWords(interactiveSshCommand(ssh, ['cat', 'a b']).at(-1)!)).toEqual(['cat', 'a b']);
  });

  it('a non-root user gets sudo for fleet\'s own scripts, not for the user\'s exec command', () => {
    const deploy: SshSettings = { ...ssh, endpoint: { ...ssh.endpoint, user: 'deploy' } };
    expect(remoteWords(rebootCommand(deploy).at(-1)!).slice(0, 4)).toEqual(['sudo', '-n', '--', 'sh']);
    expect(remoteWords(execCommand(deploy, ['id', '-u']).at(-1)!)).toEqual(['id', '-u']);
  });

  it('health check: bounded by timeout on the target, its argv quoted once', () => {
    const argv = healthCheckCommand(ssh, { name: 'x', command: ['curl', '-f', 'http://localhost/$(x)'], timeout: 5 });
    expect(remoteWords(argv.at(-1)!)).toEqual(['timeout', '5', 'curl', '-f', 'http://localhost/$(x)']);
    expect(healthCheckCommand(undefined, { name: 'x', command: ['true'], timeout: 1 })).toEqual(['timeout', '1', 'true']);
  });

  it('rollback: the generation is a number, passed as an argument', () => {
    const words = remoteWords(rollbackCommand(ssh, 12, 'boot').at(-1)!);
    expect(words.slice(0, 2)).toEqual(['sh', '-c']);
    expect(words.slice(3)).toEqual(['fleet-rollback', '/nix/var/nix/profiles/system', '12', 'boot']);
    expect(() => rollbackCommand(ssh, 0, 'switch')).toThrow();
    expect(() => rollbackCommand(ssh, 1.5, 'switch')).toThrow();
  });

  it('nixos-install: the real flags, root and system as their own words', () => {
    expect(nixosInstallCommand({ nix: ['nix'], nixosRebuild: [], nixosAnywhere: [], nixosInstall: ['nixos-install'] }, '/mnt/a b', '/nix/store/x-sys')).toEqual([
      'nixos-install',
      '--root',
      '/mnt/a b',
      '--system',
      '/nix/store/x-sys',
      '--no-root-passwd',
    ]);
  });
});
