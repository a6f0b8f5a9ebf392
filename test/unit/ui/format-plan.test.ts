// The human plan tree for a small hand-built Plan.
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../../src/plan/types.js';
import { formatCommand, formatEndpoint, formatPlan } from '../../../src/ui/index.js';
import { sshCommand } from '../../../src/ssh/index.js';
import { buildPlan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

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
    results: { dir: '/tmp/f/results', rootCached: { purpose: 'root the cached systems for the run', argv: ['nix-store', '--add-root', { ref: 'resultLink' }, '--indirect', '--realise', { ref: 'cachedOutputs' }] } },
  },
  provenance: { operator: 'octocat', ci: { system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/o/r/actions/runs/7' }, revision: '1a2b3c4-dirty', fleetVersion: '0.1.0' },
  hosts: [
    {
      name: 'new-box',
      mode: 'switch',
      target: { kind: 'ssh', user: 'root', host: '10.0.0.7', port: 22 },
      pinnedKeys: [],
      substitutes: true,
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
      substitutes: true,
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
      '  results  rooted in /tmp/f/results while the run lasts (a garbage collection cannot delete them before they are copied)',
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

describe('formatPlan and the evaluation cache', () => {
  const key = { flake: 'f', nix: 'nix (Nix) 2.8.0', nixCommand: ['nix'], settings: {}, expression: 'e' };
  const buildLines = (build: Partial<Plan['build']>) => formatPlan({ ...plan, scope: { ...plan.scope, buildOnly: true }, build: { ...plan.build, ...build } }).filter((l) => l.includes('evaluation cache') || l.startsWith('    ') && l.includes('/nix/store/x-'));

  it('names the hosts it answers and their systems', () => {
    const cached = [
      { host: 'web-1', outputs: { toplevel: { drv: '/nix/store/x-web-1.drv', out: '/nix/store/x-web-1' } } },
      { host: 'db', outputs: { toplevel: { drv: '/nix/store/x-db.drv', out: '/nix/store/x-db' }, diskoScript: { drv: '/nix/store/x-disko-db.drv', out: '/nix/store/x-disko-db' } } },
    ];
    expect(buildLines({ evalCache: { use: true, dir: '/c', key }, cached })).toEqual([
      '  evaluation cache: 2 hosts not evaluated (their systems are in the store): web-1, db',
      '    web-1 toplevel  /nix/store/x-web-1',
      '    db toplevel     /nix/store/x-db',
      '    db diskoScript  /nix/store/x-disko-db',
    ]);
  });

  it('says when it answers nothing, and why it is not used', () => {
    expect(buildLines({ evalCache: { use: true, dir: '/c', key }, cached: [] })).toEqual(['  evaluation cache: no host cached for this flake; each host evaluated is kept']);
    expect(buildLines({ evalCache: { use: false, reason: 'the flake is a dirty work tree (no revision)' } })).toEqual(['  evaluation cache: not used (the flake is a dirty work tree (no revision))']);
    expect(buildLines({})).toEqual([]);
  });
});

describe('formatCommand / formatEndpoint', () => {
  it('quotes hostile words once and leaves references bare', () => {
    expect(formatCommand({ purpose: 'x', argv: ['echo', 'a b', '$(rm -rf /)', "it's", { ref: 'toplevel' }] })).toBe(
      "echo 'a b' '$(rm -rf /)' 'it'\\''s' <toplevel>",
    );
  });

  it('says a command that takes the sudo password reads it first, ahead of its own stdin', () => {
    const settings = { endpoint: { kind: 'ssh' as const, user: 'admin', host: 'h', port: 22 }, knownHostsFiles: [], trustOnFirstUse: false, extraOptions: [], connectTimeout: 5 };
    const withPassword = { ...settings, escalation: { method: 'sudo' as const, askPassword: true } };
    expect(formatCommand({ purpose: 'push keys', argv: sshCommand(withPassword, ['sh', '-c', 'x']), stdin: 'key files' })).toMatch(
      /-- admin@h 'sh -c <sudo-password script> fleet-sudo-password sh -c x'  \(stdin: the sudo password, then key files\)$/,
    );
    expect(formatCommand({ purpose: 'x', argv: sshCommand(withPassword, ['true']) })).toMatch(/\(stdin: the sudo password\)$/);
    expect(formatCommand({ purpose: 'x', argv: sshCommand(settings, ['true']) })).toMatch(/'sudo -n -- true'$/);
  });

  it('says per host how it becomes root, and why fleet activates a host nixos-rebuild-ng cannot make root', () => {
    const built = buildPlan(
      inventory([
        host('doer', { target: { kind: 'ssh', user: 'doer', host: 'd', port: 22 }, escalation: { method: 'doas', askPassword: false } }),
        host('admin', { target: { kind: 'ssh', user: 'admin', host: 'a', port: 22 }, escalation: { method: 'sudo', askPassword: true } }),
        host('plain', { target: { kind: 'ssh', user: 'deploy', host: 'p', port: 22 } }),
        host('root'),
      ]),
      planOptions({ rebuildFlavour: 'ng' }),
    );
    const text = formatPlan(built).join('\n');
    expect(text).toContain('  root  doas without a password (doas -n --)');
    expect(text).toContain("  root  sudo with the password fleet asks once on the terminal, handed to each privileged command on its stdin (sudo -S -k -p ''; never in an argv, environment or file)");
    expect(text).toContain('  root  sudo without a password (sudo -n --)');
    expect(text.match(/^ {2}root {2}/gm)).toHaveLength(3);
    expect(text.match(/flavour: as the bash nixos-rebuild does, run by fleet \(this host's escalation is not one nixos-rebuild-ng runs itself\)/g)).toHaveLength(2);
    expect(text.match(/flavour: nixos-rebuild-ng --store-path/g)).toHaveLength(2);
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
