// The human plan tree for a small hand-built Plan.
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../src/manifest/inventory.js';
import type { Plan } from '../../../src/plan/types.js';
import { formatCommand, formatEndpoint, formatPlan } from '../../../src/ui/index.js';
import { host } from '../plan/inventory-fixture.js';

/** A host reached by its bare name (the plan tests' fixture uses name.example.org). */
function spec(name: string, patch: Partial<HostSpec> = {}): HostSpec {
  return host(name, { target: { kind: 'ssh', user: 'root', host: name, port: 22 }, ...patch });
}

const plan: Plan = {
  version: 1,
  manifestPath: '/srv/fleet/fleet.yaml',
  flake: '/srv/fleet',
  parallel: 0,
  force: true,
  failFast: false,
  allowBootstrap: true,
  paths: { stateDir: '/srv/fleet/.fleet', knownHosts: '/tmp/f/known_hosts', tofuKnownHosts: '/srv/fleet/.fleet/tofu', runtimeDir: '/tmp/f' },
  commands: { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] },
  build: {
    evalLimit: 1,
    derivationSuffix: '^*',
    chunks: [
      {
        attributes: [
          { host: 'new-box', output: 'toplevel', installable: '/srv/fleet#nixosConfigurations."new-box".config.system.build.toplevel' },
          { host: 'new-box', output: 'diskoScript', installable: '/srv/fleet#nixosConfigurations."new-box".config.system.build.diskoScript' },
        ],
        buildHost: { kind: 'ssh', user: 'builder', host: 'big', port: 2222 },
        buildHostKeys: [],
        evaluate: { purpose: 'evaluate', argv: ['nix', 'eval', '--json'] },
        build: { purpose: 'build', argv: ['nix', 'build', '--json', '--option', 'substituters', '', { ref: 'derivations' }] },
      },
    ],
  },
  hosts: [
    {
      name: 'new-box',
      mode: 'switch',
      target: { kind: 'ssh', user: 'root', host: '10.0.0.7', port: 22 },
      spec: spec('new-box'),
      lock: { purpose: 'lock', argv: ['ssh', 'root@10.0.0.7', '--', 'flock', '/run/fleet.lock', 'cat'] },
      probe: { purpose: 'probe', argv: ['ssh', 'root@10.0.0.7', '--', 'sh', '-c', 'test -e /etc/NIXOS && echo nixos'] },
      watchdog: true,
      rollbackTimeout: 120,
      steps: [
        {
          kind: 'push-keys',
          guard: 'before a bootstrap (keys.push: bootstrap)',
          commands: [{ purpose: 'stage keys', argv: ['install', '-m', '0600', '/dev/stdin', '/tmp/f/new-box/etc/ssh/ssh_host_ed25519_key'], stdin: 'host key file' }],
        },
        {
          kind: 'bootstrap',
          guard: 'only if the probe shows the target is not NixOS',
          commands: [
            {
              purpose: 'install',
              argv: ['nixos-anywhere', '--store-paths', { ref: 'diskoScript' }, { ref: 'toplevel' }, '--extra-files', '/tmp/f/new-box', 'root@10.0.0.7'],
            },
          ],
        },
        {
          kind: 'deploy',
          guard: 'unless the target already runs <toplevel>',
          commands: [
            {
              purpose: 'activate',
              argv: ['nixos-rebuild', 'switch', '--store-path', { ref: 'toplevel' }, '--target-host', 'root@10.0.0.7'],
              env: { NIX_SSHOPTS: '-o BatchMode=yes -o ControlPath=/tmp/f/%C' },
            },
          ],
        },
        {
          kind: 'verify',
          guard: 'after a live activation',
          commands: [{ purpose: 'confirm watchdog', argv: ['ssh', 'root@10.0.0.7', '--', 'fleet-confirm', { ref: 'deployId' }] }],
        },
      ],
    },
    {
      name: 'laptop',
      mode: 'boot',
      target: { kind: 'local' },
      spec: spec('laptop', { target: { kind: 'local' }, mode: 'boot' }),
      probe: { purpose: 'probe', argv: ['sh', '-c', "echo it's me"] },
      watchdog: false,
      rollbackTimeout: 90,
      steps: [{ kind: 'deploy', guard: 'unless the target already runs <toplevel>', commands: [] }],
    },
  ],
};

describe('formatPlan', () => {
  it('prints the build stage, then each host with its guards and quoted argv', () => {
    expect(formatPlan(plan)).toEqual([
      'plan  /srv/fleet/fleet.yaml',
      '  flake  /srv/fleet',
      '  hosts  2 (all at once)',
      '  force: yes, fail-fast: no, bootstrap without prompt: yes',
      '',
      'build  1 chunk, up to 1 host per evaluation',
      '  chunk 1/1 on builder@big:2222: new-box',
      '    new-box toplevel     /srv/fleet#nixosConfigurations."new-box".config.system.build.toplevel',
      '    new-box diskoScript  /srv/fleet#nixosConfigurations."new-box".config.system.build.diskoScript',
      '    $ nix eval --json',
      "    $ nix build --json --option substituters '' <derivations>",
      '',
      'host new-box  switch on root@10.0.0.7',
      '  watchdog  armed: rolls back after 120s unless a new ssh connection confirms',
      '  lock  held for the whole sequence',
      '    lock: $ ssh root@10.0.0.7 -- flock /run/fleet.lock cat',
      '  probe  always, before the steps',
      "    probe: $ ssh root@10.0.0.7 -- sh -c 'test -e /etc/NIXOS && echo nixos'",
      '  push-keys  before a bootstrap (keys.push: bootstrap)',
      '    stage keys: $ install -m 0600 /dev/stdin /tmp/f/new-box/etc/ssh/ssh_host_ed25519_key  (stdin: host key file)',
      '  bootstrap  only if the probe shows the target is not NixOS',
      '    install: $ nixos-anywhere --store-paths <diskoScript> <toplevel> --extra-files /tmp/f/new-box root@10.0.0.7',
      '  deploy  unless the target already runs <toplevel>',
      "    activate: $ NIX_SSHOPTS='-o BatchMode=yes -o ControlPath=/tmp/f/%C' nixos-rebuild switch --store-path <toplevel> --target-host root@10.0.0.7",
      '  verify  after a live activation',
      '    confirm watchdog: $ ssh root@10.0.0.7 -- fleet-confirm <deployId>',
      '',
      'host laptop  boot on this machine',
      '  watchdog  none (boot changes nothing live)',
      '  probe  always, before the steps',
      "    probe: $ sh -c 'echo it'\\''s me'",
      '  deploy  unless the target already runs <toplevel>',
    ]);
  });
});

describe('formatCommand / formatEndpoint', () => {
  it('quotes hostile words once and leaves references bare', () => {
    expect(formatCommand({ purpose: 'x', argv: ['echo', 'a b', '$(rm -rf /)', "it's", { ref: 'toplevel' }] })).toBe(
      "echo 'a b' '$(rm -rf /)' 'it'\\''s' <toplevel>",
    );
  });

  it('names endpoints the way users write them', () => {
    expect(formatEndpoint({ kind: 'ssh', user: 'root', host: 'h', port: 22 })).toBe('root@h');
    expect(formatEndpoint({ kind: 'ssh', user: 'deploy', host: 'h', port: 2222 })).toBe('deploy@h:2222');
    expect(formatEndpoint({ kind: 'local' })).toBe('this machine');
  });
});
