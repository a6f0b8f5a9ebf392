// The human plan tree for a small hand-built Plan.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../src/plan/types.js';
import { formatCommand, formatEndpoint, formatPlan } from '../../../src/ui/index.js';

const plan: Plan = {
  version: 2,
  manifestPath: '/srv/fleet/fleet.yaml',
  flake: '/srv/fleet',
  parallel: 0,
  force: true,
  failFast: false,
  allowBootstrap: true,
  scope: { steps: ['push-keys', 'bootstrap', 'secrets', 'deploy', 'verify'], forceKeyPush: false, buildOnly: false },
  paths: { stateDir: '/srv/fleet/.fleet', knownHosts: '/tmp/f/known_hosts', tofuKnownHosts: '/srv/fleet/.fleet/tofu', runtimeDir: '/tmp/f' },
  commands: { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] },
  build: {
    evalLimit: 1,
    evalJobs: 2,
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
  provenance: { operator: 'octocat', ci: { system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/o/r/actions/runs/7' }, revision: '1a2b3c4-dirty', fleetVersion: '0.1.0' },
  hosts: [
    {
      name: 'new-box',
      mode: 'switch',
      target: { kind: 'ssh', user: 'root', host: '10.0.0.7', port: 22 },
      pinnedKeys: [],
      watchdogSeconds: 120,
      healthChecks: [],
      connect: {
        kind: 'lock-and-probe',
        early: true,
        command: { purpose: 'lock and probe', argv: ['ssh', 'root@10.0.0.7', '--', 'flock', '/run/fleet.lock', 'sh'] },
        closure: 'ask',
        waitSeconds: 30,
      },
      diff: { kind: 'diff', never: 'not asked' },
      pushKeys: {
        kind: 'push-keys',
        guard: 'before a bootstrap (keys.push: bootstrap)',
        keys: { push: 'bootstrap', destination: '/etc/ssh', hostKeyCandidates: ['/keys/new-box'] },
        push: { purpose: 'push keys', argv: ['ssh', 'root@10.0.0.7', '--', 'install', '-m', '0600', '/dev/stdin', '/etc/ssh/ssh_host_ed25519_key'], stdin: 'host key file' },
        pinPushedKey: true,
      },
      bootstrap: {
        kind: 'bootstrap',
        guard: 'only if the probe shows the target is not NixOS',
        options: { noDiskoDeps: false, noReboot: false, debug: false, phases: ['disko', 'install', 'reboot'], diskEncryptionKeys: [], waitTimeout: 300 },
        install: { purpose: 'install', argv: ['nixos-anywhere', '--store-paths', { ref: 'diskoScript' }, { ref: 'toplevel' }, '--extra-files', '/tmp/f/new-box', 'root@10.0.0.7'] },
        waitForInstalled: { purpose: 'wait for the installed system', argv: ['ssh', 'root@10.0.0.7', '--', 'true'] },
        waitSeconds: 300,
        staging: '/tmp/f/new-box',
      },
      secrets: { kind: 'secrets', never: 'no secrets' },
      deploy: {
        kind: 'deploy',
        guard: 'unless the target already runs <toplevel>',
        flavour: 'ng',
        copy: { purpose: 'copy closure', argv: ['nix', 'copy', '--to', 'ssh://root@10.0.0.7', { ref: 'toplevel' }] },
        activation: {
          kind: 'watched',
          arm: { purpose: 'arm watchdog', argv: ['ssh', 'root@10.0.0.7', '--', 'fleet-arm', { ref: 'deployId', remote: true }, '120 switch'] },
          activate: {
            purpose: 'activate',
            argv: ['nixos-rebuild', 'switch', '--store-path', { ref: 'toplevel' }, '--target-host', 'root@10.0.0.7'],
            env: { NIX_SSHOPTS: '-o BatchMode=yes -o ControlPath=/tmp/f/%C' },
          },
          confirm: { purpose: 'confirm watchdog and verify', argv: ['ssh', 'root@10.0.0.7', '--', 'fleet-confirm', { ref: 'deployId', remote: true }] },
          afterDeadline: { purpose: 'see whether the target rolled back', argv: ['ssh', 'root@10.0.0.7', '--', 'fleet-probe'] },
          timeoutSeconds: 120,
        },
        tolerateUnitFailures: false,
        copyTimeoutSeconds: 300,
        activationTimeoutSeconds: 3600,
      },
      verify: { kind: 'verify', guard: 'after a live activation', healthChecks: [] },
      history: {
        kind: 'record-history',
        guard: 'after every activation or install, however it ended',
        file: '/nix/var/fleet/history.jsonl',
        append: { purpose: 'record the deploy in the host history', argv: ['ssh', 'root@10.0.0.7', '--', 'fleet-history', { ref: 'historyRecord', remote: true }] },
        overLockSession: true,
      },
    },
    {
      name: 'laptop',
      mode: 'boot',
      target: { kind: 'local' },
      pinnedKeys: [],
      watchdogSeconds: 90,
      healthChecks: [],
      connect: { kind: 'probe', command: { purpose: 'probe', argv: ['sh', '-c', "echo it's me"] } },
      diff: { kind: 'diff', never: 'not asked' },
      pushKeys: { kind: 'push-keys', never: 'no key policy' },
      bootstrap: { kind: 'bootstrap', never: 'no bootstrap options' },
      secrets: { kind: 'secrets', never: 'no secrets' },
      deploy: {
        kind: 'deploy',
        guard: 'unless the target already runs <toplevel>',
        flavour: 'bash',
        activation: { kind: 'plain', activate: { purpose: 'activate boot', argv: ['sh', '-c', 'activate', 'fleet-activate', { ref: 'toplevel' }, 'boot'] }, unwatched: 'boot changes nothing live' },
        tolerateUnitFailures: false,
        copyTimeoutSeconds: 300,
        activationTimeoutSeconds: 3600,
      },
      verify: { kind: 'verify', never: 'boot is checked by the probe' },
      history: { kind: 'record-history', never: 'dry-activate changes nothing' },
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
      '  recorded as  octocat (github-actions https://github.com/o/r/actions/runs/7), revision 1a2b3c4-dirty, fleet 0.1.0',
      '',
      "build  1 chunk, up to 1 host per evaluation, 1 evaluation at once (eval jobs: 2); each host starts as soon as it is evaluated and copies once it is built",
      '  chunk 1/1 on builder@big:2222: new-box',
      '    new-box toplevel     /srv/fleet#nixosConfigurations."new-box".config.system.build.toplevel',
      '    new-box diskoScript  /srv/fleet#nixosConfigurations."new-box".config.system.build.diskoScript',
      '    $ nix eval --json',
      "    $ nix build --json --option substituters '' <derivations>",
      '',
      'host new-box  switch on root@10.0.0.7',
      '  watchdog  armed: rolls back after 120s unless a new ssh connection confirms',
      '  lock and probe  one session from the start of the run, while hosts are evaluated: opens the shared connection, holds the deploy lock for the whole sequence, answers ?<toplevel> (is the closure there?)',
      '    lock and probe: $ ssh root@10.0.0.7 -- flock /run/fleet.lock sh',
      '  push-keys  before a bootstrap (keys.push: bootstrap)',
      '    push keys: $ ssh root@10.0.0.7 -- install -m 0600 /dev/stdin /etc/ssh/ssh_host_ed25519_key  (stdin: host key file)',
      '  bootstrap  only if the probe shows the target is not NixOS',
      '    install: $ nixos-anywhere --store-paths <diskoScript> <toplevel> --extra-files /tmp/f/new-box root@10.0.0.7',
      '    wait for the installed system: $ ssh root@10.0.0.7 -- true',
      '  secrets  never (no secrets)',
      '  deploy  unless the target already runs <toplevel>',
      '    flavour: nixos-rebuild-ng --store-path',
      '    copy closure: $ nix copy --to ssh://root@10.0.0.7 <toplevel>',
      "    arm watchdog: $ ssh root@10.0.0.7 -- fleet-arm <deployId> '120 switch'",
      "    activate: $ NIX_SSHOPTS='-o BatchMode=yes -o ControlPath=/tmp/f/%C' nixos-rebuild switch --store-path <toplevel> --target-host root@10.0.0.7",
      '  verify  after a live activation',
      '    confirm watchdog and verify: $ ssh root@10.0.0.7 -- fleet-confirm <deployId>',
      '    see whether the target rolled back: $ ssh root@10.0.0.7 -- fleet-probe',
      '  history  after every activation or install, however it ended',
      "    record the deploy in the host history: over the held lock session (stdin: !/nix/var/fleet/history.jsonl, then <historyRecord>); after an install, or a rollout's rollback of the host: $ ssh root@10.0.0.7 -- fleet-history <historyRecord>",
      '',
      'host laptop  boot on this machine',
      '  watchdog  none (boot changes nothing live)',
      '  probe  always, before the steps',
      "    probe: $ sh -c 'echo it'\\''s me'",
      '  push-keys  never (no key policy)',
      '  bootstrap  never (no bootstrap options)',
      '  secrets  never (no secrets)',
      '  deploy  unless the target already runs <toplevel>',
      '    flavour: as the bash nixos-rebuild does, run by fleet',
      '    activate boot: $ sh -c activate fleet-activate <toplevel> boot',
      '  verify  never (boot is checked by the probe)',
      '  history  never (dry-activate changes nothing)',
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

describe('formatStatusTable', () => {
  it('says "secrets missing" beside the verdict, and which ones below', async () => {
    const { formatStatusTable } = await import('../../../src/ui/index.js');
    const base = { live: '', bootDefault: '', booted: '', wanted: '', detail: '' };
    expect(
      formatStatusTable([
        { ...base, host: 'web-1', verdict: 'up-to-date', secrets: { state: 'missing', problems: ['db: missing (/run/keys/db)'] } },
        { ...base, host: 'web-2', verdict: 'outdated', secrets: { state: 'in-place', problems: [] } },
        { ...base, host: 'web-3', verdict: 'up-to-date', secrets: { state: 'unknown', problems: ['secret db: environment variable DB is not set'] } },
      ]),
    ).toEqual([
      'HOST   STATUS                       LIVE  BOOT DEFAULT  WANTED  LIVE REVISION  BY',
      'web-1  up-to-date, secrets missing  -     -             -       -              -',
      'web-2  outdated                     -     -             -       -              -',
      'web-3  up-to-date, secrets unknown  -     -             -       -              -',
      'web-1: secrets missing: db: missing (/run/keys/db) (fleet push-secrets web-1)',
      'web-3: secrets unknown: secret db: environment variable DB is not set',
    ]);
  });
});
