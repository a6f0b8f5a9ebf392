// Unusual addresses and jump hosts, down to the argv: IPv6 literals (with a port, with a zone) for
// ssh (-p and the bare address) and for Nix's store URLs (per Nix version); a jump host's settings
// in the ssh config every ssh (and NIX_SSHOPTS) is given with -F.
import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../../src/manifest/endpoint.js';
import { argvForDisplay, buildPlan, nixSshStoreUri } from '../../../src/plan/index.js';
import { JUMP_ALIAS, jumpConfigText, nixSshOpts, sshBase, type SshSettings } from '../../../src/ssh/index.js';
import type { SshEndpoint } from '../../../src/manifest/inventory.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

function endpointOf(text: string): SshEndpoint {
  const parsed = parseEndpoint(text);
  if (!parsed.ok || parsed.endpoint.kind !== 'ssh') throw new Error(`not an ssh endpoint: ${text}`);
  return { kind: 'ssh', user: parsed.endpoint.user ?? 'root', host: parsed.endpoint.host, port: parsed.endpoint.port ?? 22 };
}

function settings(endpoint: SshEndpoint, extra: Partial<SshSettings> = {}): SshSettings {
  return { endpoint, knownHostsFiles: ['/run/f/known_hosts'], trustOnFirstUse: false, extraOptions: [], connectTimeout: 10, ...extra };
}

describe('addresses', () => {
  it.each([
    ['root@[2001:db8::5]:2222', '2222', 'root@2001:db8::5'],
    ['deploy@2001:db8::5', '22', 'deploy@2001:db8::5'],
    ['root@[fe80::1%eth0]', '22', 'root@fe80::1%eth0'],
    ['[fe80::1%eth0]:2200', '2200', 'root@fe80::1%eth0'],
    ['root@10.0.0.7:2222', '2222', 'root@10.0.0.7'],
  ])('%s → ssh -p %s -- %s (the bare address)', (text, port, destination) => {
    const argv = sshBase(settings(endpointOf(text)));
    expect(argv.slice(-4)).toEqual(['-p', port, '--', destination]);
    expect(nixSshOpts(settings(endpointOf(text))).endsWith(` -p ${port}`)).toBe(true);
  });

  it.each([
    ['root@[2001:db8::5]:2222', 'nix (Nix) 2.8.0', 'ssh://root@[2001:db8::5]'],
    ['root@[2001:db8::5]:2222', 'nix (Nix) 2.31.2', 'ssh://root@[2001:db8::5]'],
    ['root@[fe80::1%eth0]', 'nix (Nix) 2.8.0', 'ssh://root@[fe80::1%eth0]'],
    ['root@[fe80::1%eth0]', 'nix (Nix) 2.34.7', 'ssh://root@[fe80::1%25eth0]'],
    ['root@10.0.0.7:2222', 'nix (Nix) 2.8.0', 'ssh://root@10.0.0.7'],
  ])('Nix store URL of %s with %s: %s (the port goes in NIX_SSHOPTS)', (text, version, uri) => {
    expect(nixSshStoreUri(endpointOf(text), version)).toBe(uri);
  });
});

describe('jump hosts', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4Jw0KqgV3xk2S1r4fE2qQ0vS0v9d8m1fHqC7y3mJxK';
  const fleet = inventory([
    host('inner', {
      target: { kind: 'ssh', user: 'root', host: 'fd00::2', port: 22 },
      identityFile: '/keys/fleet',
      jump: { endpoint: { kind: 'ssh', user: 'ops', host: 'bastion.example.org', port: 2200 }, hostKeys: [key] },
    }),
    host('plain'),
  ]);
  const plan = buildPlan(fleet, planOptions({ rebuildFlavour: 'bash' }));
  const inner = plan.hosts.find((h) => h.name === 'inner')!;
  const jump = inner.ssh!.jump!;

  it('gives every ssh of the host -F <its config> and ProxyJump to the alias there, the copy included', () => {
    expect(jump.configFile).toMatch(/^\/tmp\/fleet-x\/jump-[0-9a-f]{12}\.conf$/);
    const lock = argvForDisplay(inner.connect.command.argv);
    expect(lock.slice(0, 3)).toEqual(['ssh', '-F', jump.configFile]);
    expect(lock).toContain(`ProxyJump=${JUMP_ALIAS}`);
    expect(lock.slice(lock.indexOf('--') - 2, lock.indexOf('--') + 2)).toEqual(['-p', '22', '--', 'root@fd00::2']);
    const copy = inner.deploy.copy!;
    expect(argvForDisplay(copy.argv)).toContain('ssh://root@[fd00::2]');
    expect(copy.env?.NIX_SSHOPTS).toMatch(new RegExp(`^-F ${jump.configFile} -o BatchMode=yes .*-o ProxyJump=${JUMP_ALIAS} `));
    // The confirmation's fresh connection goes through the jump host too.
    if (inner.deploy.activation.kind !== 'watched') throw new Error('watched');
    expect(argvForDisplay(inner.deploy.activation.confirm.argv)).toEqual(expect.arrayContaining(['-F', jump.configFile, `ProxyJump=${JUMP_ALIAS}`]));
    // A host without one: no -F, no ProxyJump.
    const plain = argvForDisplay(plan.hosts.find((h) => h.name === 'plain')!.connect.command.argv);
    expect(plain).not.toContain('-F');
    expect(plain.some((w) => w.startsWith('ProxyJump'))).toBe(false);
  });

  it("writes the jump hop fleet's settings, then the user's and the system's config", () => {
    expect(jumpConfigText(jump, 10).split('\n')).toEqual([
      "# written by fleet for one run: the jump host ops@bastion.example.org:2200 with fleet's settings",
      `Host ${JUMP_ALIAS}`,
      '  HostName bastion.example.org',
      '  Port 2200',
      '  User ops',
      '  BatchMode yes',
      '  UserKnownHostsFile /tmp/fleet-x/known_hosts',
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  UpdateHostKeys no',
      '  ConnectTimeout 10',
      '  ServerAliveInterval 5',
      '  ServerAliveCountMax 3',
      '  IdentityFile /keys/fleet',
      '  IdentitiesOnly yes',
      '  ControlMaster no',
      '  ControlPath none',
      'Match all',
      'Include ~/.ssh/config',
      'Include /etc/ssh/ssh_config',
      '',
    ]);
  });

  it('doubles % (a zone) in the config, where ssh expands %-tokens, and refuses what it cannot write', () => {
    const zoned = jumpConfigText({ endpoint: { kind: 'ssh', user: 'root', host: 'fe80::1%eth0', port: 22 }, hostKeys: [], knownHostsFiles: [] }, 5);
    expect(zoned).toMatch(/^ {2}HostName fe80::1%%eth0$/m);
    expect(zoned).not.toMatch(/UserKnownHostsFile/);
    expect(() => jumpConfigText({ endpoint: { kind: 'ssh', user: 'root', host: 'gw', port: 22 }, hostKeys: [], knownHostsFiles: [], identityFile: '/my keys/id' }, 5)).toThrow(
      /identity file "\/my keys\/id" contains white space/,
    );
  });
});
