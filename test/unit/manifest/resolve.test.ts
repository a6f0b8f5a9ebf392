// Resolution of valid manifests: built-in defaults, `defaults` merging, targets, build hosts, paths, keys.
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../src/manifest/index.js';
import { BASE, KEYS, parse, problems, yaml } from './helpers.js';

const host = (text: string, name: string): HostSpec => {
  const found = parse(text).hosts.find((h) => h.name === name);
  if (!found) throw new Error(`no host ${name}`);
  return found;
};

describe('built-in defaults', () => {
  it('fills every field of a bare host', () => {
    const inventory = parse(yaml('version: 1', 'hosts:', '  web-1: {}'));
    expect(inventory).toEqual({
      manifestPath: `${BASE}/fleet.yaml`,
      flake: BASE,
      parallel: 10,
      rebuildFlavour: 'auto',
      copyTimeout: 300,
      activationTimeout: 3600,
      commands: {
        nix: ['nix'],
        nixosRebuild: ['nixos-rebuild'],
        nixosAnywhere: ['nixos-anywhere'],
        nixosInstall: ['nixos-install'],
      },
      sshOptions: [],
      hosts: [
        {
          name: 'web-1',
          target: { kind: 'ssh', user: 'root', host: 'web-1', port: 22 },
          hostKeys: [],
          trustOnFirstUse: false,
          mode: 'switch',
          buildHost: { kind: 'local' },
          buildOnTarget: false,
          substitutes: true,
          tags: [],
          rollback: { enabled: true, timeout: 90 },
          healthChecks: [],
          secrets: [],
          tolerateUnitFailures: false,
          escalation: { method: 'sudo', askPassword: false },
        },
      ],
    });
  });

  it('accepts a manifest without hosts', () => {
    expect(parse(yaml('version: 1')).hosts).toEqual([]);
  });

  it('keeps hosts in the order written, numeric names included', () => {
    const names = parse(yaml('version: 1', 'hosts:', '  zeta: {}', '  "10": {}', '  alpha: {}')).hosts.map(
      (h) => h.name,
    );
    expect(names).toEqual(['zeta', '10', 'alpha']);
  });

  it('passes top-level settings through', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'parallel: 0',
        'evalLimit: 3',
        'commands:',
        "  nixosRebuild: [nix, run, 'nixpkgs#nixos-rebuild', --]",
        'ssh:',
        '  options: [ServerAliveInterval=15, "ProxyJump=bastion.example.net"]',
        'hosts:',
        '  web: {}',
        '  own: { jump: "ops@gw:2222" }',
      ),
    );
    expect(inventory.parallel).toBe(0);
    expect(inventory.evalLimit).toBe(3);
    expect(inventory.commands.nixosRebuild).toEqual(['nix', 'run', 'nixpkgs#nixos-rebuild', '--']);
    expect(inventory.commands.nix).toEqual(['nix']);
    // A ProxyJump is every host's jump host (a host's own jump: wins), reached with fleet's settings.
    expect(inventory.sshOptions).toEqual(['ServerAliveInterval=15']);
    expect(inventory.hosts.map((h) => h.jump)).toEqual([
      { endpoint: { kind: 'ssh', user: 'root', host: 'bastion.example.net', port: 22 }, hostKeys: [] },
      { endpoint: { kind: 'ssh', user: 'ops', host: 'gw', port: 2222 }, hostKeys: [] },
    ]);
  });

  it('resolves jump hosts: a string, or an object with a pinned key and an identity; one hop; not with bootstrap', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4Jw0KqgV3xk2S1r4fE2qQ0vS0v9d8m1fHqC7y3mJxK';
    const inventory = parse(
      yaml(
        'version: 1',
        'defaults: { identityFile: /keys/fleet, jump: { target: "[2001:db8::9]:2200", hostKey: "' + key + ' gw" } }',
        'hosts:',
        '  a: { target: "deploy@[fd00::5]" }',
        '  b: { jump: { target: gw.example.org, identityFile: /keys/gw } }',
      ),
    );
    expect(inventory.hosts.map((h) => h.jump)).toEqual([
      { endpoint: { kind: 'ssh', user: 'deploy', host: '2001:db8::9', port: 2200 }, hostKeys: [key], identityFile: '/keys/fleet' },
      { endpoint: { kind: 'ssh', user: 'root', host: 'gw.example.org', port: 22 }, hostKeys: [], identityFile: '/keys/gw' },
    ]);
    const problems = (text: string) => {
      try {
        parse(text);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    // The jump host as a host of its own: reached directly, and its pinned key is the jump's.
    const withBastion = parse(
      yaml('version: 1', 'ssh: { options: ["ProxyJump=ops@gw:2200"] }', 'hosts:', `  gw: { target: "root@gw:2200", hostKey: "${key}" }`, '  inner: { target: "root@[fd00::2]" }'),
    );
    expect(withBastion.hosts.map((h) => [h.name, h.jump])).toEqual([
      ['gw', undefined],
      ['inner', { endpoint: { kind: 'ssh', user: 'ops', host: 'gw', port: 2200 }, hostKeys: [key] }],
    ]);
    expect(problems(yaml('version: 1', 'ssh: { options: ["ProxyJump=a,b"] }', 'hosts:', '  h: {}'))).toMatch(
      /ssh\.options\[0\] ProxyJump "a,b": fleet takes one jump host/,
    );
    expect(problems(yaml('version: 1', 'hosts:', '  h: { jump: gw, bootstrap: true }'))).toMatch(/hosts\.h: a host reached through a jump host cannot be bootstrapped/);
    expect(problems(yaml('version: 1', 'hosts:', '  h: { target: local, jump: gw }'))).toMatch(/hosts\.h\.jump: a host with target: local is not reached over ssh/);
  });
});

describe('defaults merging', () => {
  const text = yaml(
    'version: 1',
    'defaults:',
    '  user: deploy',
    '  port: 2222',
    '  mode: boot',
    '  tags: [fleet]',
    '  trustOnFirstUse: true',
    '  keys:',
    '    hostKeySearch: [./host-keys]',
    '    destination: /persist/etc/ssh',
    '  bootstrap:',
    '    noDiskoDeps: true',
    '  rollback:',
    '    timeout: 120',
    '  healthChecks:',
    '    - { name: sshd, command: [systemctl, is-active, sshd] }',
    'hosts:',
    '  plain: {}',
    '  own:',
    '    user: admin',
    '    mode: test',
    '    tags: [web]',
    '    keys: { push: always }',
    '    bootstrap: { debug: true }',
    '    rollback: { enabled: false }',
    '    healthChecks: []',
    '  written:',
    '    target: root@written.example.net:22',
    '  off:',
    '    bootstrap: false',
    '  on:',
    '    bootstrap: true',
  );

  it('gives a host every default it does not set', () => {
    const plain = host(text, 'plain');
    expect(plain.target).toEqual({ kind: 'ssh', user: 'deploy', host: 'plain', port: 2222 });
    expect(plain.mode).toBe('boot');
    expect(plain.tags).toEqual(['fleet']);
    expect(plain.trustOnFirstUse).toBe(true);
    expect(plain.keys).toEqual({
      push: 'bootstrap',
      hostKeySearch: [`${BASE}/host-keys`],
      generate: false,
      agenixKeyName: 'global_ed25519',
      destination: '/persist/etc/ssh',
    });
    expect(plain.bootstrap).toEqual({
      noDiskoDeps: true,
      noReboot: false,
      debug: false,
      phases: ['disko', 'install', 'reboot'],
      diskEncryptionKeys: [],
      waitTimeout: 300,
    });
    expect(plain.rollback).toEqual({ enabled: true, timeout: 120 });
    expect(plain.healthChecks).toEqual([{ name: 'sshd', command: ['systemctl', 'is-active', 'sshd'], timeout: 30 }]);
  });

  it('lets host fields win, merging keys, bootstrap and rollback one level deep', () => {
    const own = host(text, 'own');
    expect(own.target).toEqual({ kind: 'ssh', user: 'admin', host: 'own', port: 2222 });
    expect(own.mode).toBe('test');
    expect(own.tags).toEqual(['web']); // replaced, not concatenated
    expect(own.keys?.push).toBe('always');
    expect(own.keys?.hostKeySearch).toEqual([`${BASE}/host-keys`]);
    expect(own.keys?.destination).toBe('/persist/etc/ssh');
    expect(own.bootstrap?.noDiskoDeps).toBe(true);
    expect(own.bootstrap?.debug).toBe(true);
    expect(own.rollback).toEqual({ enabled: false, timeout: 120 });
    expect(own.healthChecks).toEqual([]);
  });

  it('takes user and port written in the target over the defaults', () => {
    expect(host(text, 'written').target).toEqual({
      kind: 'ssh',
      user: 'root',
      host: 'written.example.net',
      port: 22,
    });
  });

  it('turns a default bootstrap off with false and on with true', () => {
    expect(host(text, 'off').bootstrap).toBeUndefined();
    expect(host(text, 'on').bootstrap?.noDiskoDeps).toBe(true);
  });

  it('means the default options by bootstrap: true and bootstrap: {}', () => {
    const both = parse(yaml('version: 1', 'hosts:', '  a: { bootstrap: true }', '  b: { bootstrap: {} }'));
    const expected = {
      noDiskoDeps: false,
      noReboot: false,
      debug: false,
      phases: ['disko', 'install', 'reboot'],
      diskEncryptionKeys: [],
      waitTimeout: 300,
    };
    expect(both.hosts.map((h) => h.bootstrap)).toEqual([expected, expected]);
  });

  it('reports a problem in defaults once, at its position', () => {
    expect(
      problems(yaml('version: 1', 'defaults:', '  mode: reboot', 'hosts:', '  a: {}', '  b: {}')),
    ).toEqual(['3:9: defaults.mode must be one of switch, boot, test, dry-activate (got "reboot")']);
  });

  it('reports a keys problem that comes from defaults for each host, at the defaults', () => {
    expect(
      problems(yaml('version: 1', 'defaults:', '  keys: { push: always }', 'hosts:', '  a: {}', '  b: {}')),
    ).toEqual([
      '3:3: hosts.a.keys: push is "always" but there is nothing to push (set hostKeyFile, hostKeySearch or agenixKeyFile, or push: never)',
      '3:3: hosts.b.keys: push is "always" but there is nothing to push (set hostKeyFile, hostKeySearch or agenixKeyFile, or push: never)',
    ]);
  });
});

describe('targets and build hosts', () => {
  it('defaults the target to the host name and understands local', () => {
    const inventory = parse(
      yaml('version: 1', 'hosts:', '  status.example.net: {}', '  desk: { target: local, mode: boot }', '  local: {}'),
    );
    expect(inventory.hosts.map((h) => h.target)).toEqual([
      { kind: 'ssh', user: 'root', host: 'status.example.net', port: 22 },
      { kind: 'local' },
      { kind: 'local' },
    ]);
  });

  it('parses IPv6 targets, with and without a port', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'hosts:',
        '  a: { target: "[2001:db8::1]:2222" }',
        '  b: { target: "deploy@2001:db8::2" }',
        '  c: { target: "[fe80::1%eth0]", port: 2200 }',
      ),
    );
    expect(inventory.hosts.map((h) => h.target)).toEqual([
      { kind: 'ssh', user: 'root', host: '2001:db8::1', port: 2222 },
      { kind: 'ssh', user: 'deploy', host: '2001:db8::2', port: 22 },
      { kind: 'ssh', user: 'root', host: 'fe80::1%eth0', port: 2200 },
    ]);
  });

  it('accepts user and port fields that agree with the target', () => {
    expect(host(yaml('version: 1', 'hosts:', '  a: { target: "bob@a:22", user: bob, port: 22 }'), 'a').target).toEqual({
      kind: 'ssh',
      user: 'bob',
      host: 'a',
      port: 22,
    });
  });

  it('resolves a build host by name to that host, local, or an address', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'hosts:',
        '  builder: { target: "nix@10.0.0.2:2222" }',
        '  desk: { target: local }',
        '  a: { buildHost: builder }',
        '  b: { buildHost: desk }',
        '  c: { buildHost: local }',
        '  d: { buildHost: "ci@build.example.net" }',
        '  e: { buildHost: "[2001:db8::9]:2022" }',
      ),
    );
    expect(inventory.hosts.map((h) => [h.name, h.buildHost])).toEqual([
      ['builder', { kind: 'local' }],
      ['desk', { kind: 'local' }],
      ['a', { kind: 'ssh', user: 'nix', host: '10.0.0.2', port: 2222 }],
      ['b', { kind: 'local' }],
      ['c', { kind: 'local' }],
      ['d', { kind: 'ssh', user: 'ci', host: 'build.example.net', port: 22 }],
      ['e', { kind: 'ssh', user: 'root', host: '2001:db8::9', port: 2022 }],
    ]);
  });

  it('buildHost: target builds on the host itself (a local target: here); substitutes defaults to true; cache keys resolve beside the manifest', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'cache: { push: "s3://fleet-cache?region=eu-west-1", signingKey: keys/cache.sec }',
        'defaults: { substitutes: false }',
        'hosts:',
        '  arm: { buildHost: target, substitutes: true }',
        '  desk: { target: local, buildHost: target }',
        '  web: {}',
      ),
    );
    expect(inventory.hosts.map((h) => [h.name, h.buildOnTarget, h.buildHost.kind, h.substitutes])).toEqual([
      ['arm', true, 'local', true],
      ['desk', false, 'local', false],
      ['web', false, 'local', false],
    ]);
    expect(inventory.cache).toEqual({ push: 's3://fleet-cache?region=eu-west-1', signingKey: expect.stringMatching(/\/keys\/cache\.sec$/) });
    expect(parse(yaml('version: 1', 'hosts:', '  a: {}')).hosts[0]?.substitutes).toBe(true);
  });
});

describe('paths', () => {
  const text = yaml(
    'version: 1',
    'flake: ../flake',
    'hosts:',
    '  a:',
    '    identityFile: ~/.ssh/id_ed25519',
    '    keys:',
    '      hostKeyFile: secrets/a/ssh_host_ed25519_key',
    '      hostKeySearch: [./keys, /etc/fleet/keys, "dir with spaces"]',
    '      agenixKeyFile: ../shared/age.key',
    '    bootstrap:',
    '      extraFiles: ./extra/a',
    '      diskEncryptionKeys: [{ remote: /tmp/disk.key, local: ./disk.key }]',
    '      generateHardwareConfig: { backend: nixos-facter, path: ./hosts/a/facter.json }',
  );

  it('resolves relative paths against the manifest directory and ~ against HOME', () => {
    const a = host(text, 'a');
    expect(a.identityFile).toBe('/home/alice/.ssh/id_ed25519');
    expect(a.keys?.hostKeyFile).toBe(`${BASE}/secrets/a/ssh_host_ed25519_key`);
    expect(a.keys?.hostKeySearch).toEqual([`${BASE}/keys`, '/etc/fleet/keys', `${BASE}/dir with spaces`]);
    expect(a.keys?.agenixKeyFile).toBe('/srv/shared/age.key');
    expect(a.bootstrap?.extraFiles).toBe(`${BASE}/extra/a`);
    expect(a.bootstrap?.diskEncryptionKeys).toEqual([{ remote: '/tmp/disk.key', local: `${BASE}/disk.key` }]);
    expect(a.bootstrap?.generateHardwareConfig).toEqual({
      backend: 'nixos-facter',
      path: `${BASE}/hosts/a/facter.json`,
    });
  });

  it('resolves a local flake to an absolute path and keeps flake references', () => {
    expect(parse(text).flake).toBe('/srv/flake');
    const flake = (value: string): string => parse(yaml('version: 1', `flake: "${value}"`)).flake;
    expect(flake('.')).toBe(BASE);
    expect(flake('/abs/flake')).toBe('/abs/flake');
    expect(flake('~/src/infra')).toBe('/home/alice/src/infra');
    expect(flake('github:example/infra')).toBe('github:example/infra');
    expect(flake('git+https://git.example.net/infra?ref=main')).toBe('git+https://git.example.net/infra?ref=main');
    expect(flake('flake:infra')).toBe('flake:infra');
    expect(flake('path:./nix')).toBe(`path:${BASE}/nix`);
    expect(flake('path:/abs')).toBe('path:/abs');
  });

  it('records the manifest path given, or the one derived from the base directory', () => {
    expect(parse(yaml('version: 1')).manifestPath).toBe(`${BASE}/fleet.yaml`);
    expect(parse(yaml('version: 1'), { manifestPath: '/x/prod.yaml' }).manifestPath).toBe('/x/prod.yaml');
  });
});

describe('host keys and health checks', () => {
  it('pins keys without their comments, one or many', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'hosts:',
        `  a: { hostKey: "${KEYS.a} root@a" }`,
        '  b:',
        '    hostKey:',
        `      - ${KEYS.a}`,
        `      - ${KEYS.rsa} old key`,
      ),
    );
    expect(inventory.hosts.map((h) => h.hostKeys)).toEqual([[KEYS.a], [KEYS.a, KEYS.rsa]]);
  });

  it('turns a string command into sh -c and keeps lists as they are', () => {
    const checks = host(
      yaml(
        'version: 1',
        'hosts:',
        '  a:',
        '    healthChecks:',
        "      - { name: http, command: 'curl -fsS http://localhost/ | grep -q ok', timeout: 5 }",
        '      - { name: unit, command: [systemctl, is-active, "nginx.service"] }',
      ),
      'a',
    ).healthChecks;
    expect(checks).toEqual([
      { name: 'http', command: ['sh', '-c', 'curl -fsS http://localhost/ | grep -q ok'], timeout: 5 },
      { name: 'unit', command: ['systemctl', 'is-active', 'nginx.service'], timeout: 30 },
    ]);
  });

  it('accepts keys with push: never and nothing to push', () => {
    expect(host(yaml('version: 1', 'hosts:', '  a: { keys: { push: never } }'), 'a').keys?.push).toBe('never');
  });
});

describe('all problems at once', () => {
  it('reports schema, duplicate and cross-field problems together, sorted by position', () => {
    const text = yaml(
      'version: 3', //                                 1
      'parallel: many', //                             2
      'hosts:', //                                     3
      '  web-1:', //                                   4
      '    tgt: 10.0.0.1', //                          5
      '    port: 70000', //                            6
      '  vps-pacman:', //                              7
      '    mode: swtich', //                           8
      '  desk:', //                                    9
      '    target: local', //                          10
      '    bootstrap: {}', //                          11
      '  db:', //                                      12
      '    target: admin@db', //                       13
      '    user: root', //                             14
      '  desk:', //                                    15
      '    target: local', //                          16
      '    bootstrap: {}', //                          17
    );
    expect(problems(text)).toEqual([
      '1:10: version must be 1 (got 3)',
      '2:11: parallel must be an integer of at least 0 (got "many")',
      '5:5: hosts.web-1: unknown key "tgt" (did you mean "target"?)',
      '6:11: hosts.web-1.port must be an integer from 1 to 65535 (got 70000)',
      '8:11: hosts.vps-pacman.mode must be one of switch, boot, test, dry-activate (got "swtich")',
      '14:11: hosts.db.user "root" conflicts with the user in target "admin@db"',
      '15:3: hosts: duplicate key "desk"',
      '17:5: hosts.desk.bootstrap: a host with target: local cannot be bootstrapped (nixos-anywhere would wipe the machine fleet runs on)',
    ]);
  });

  it('carries the file name and a hint on the error', () => {
    try {
      parse(yaml('version: 1', 'hosts:', '  a: { mode: nope }'));
      expect.unreachable();
    } catch (e) {
      const error = e as { code: string; hint: string; message: string };
      expect(error.code).toBe('MANIFEST');
      expect(error.hint).toMatch(/fleet validate/);
      expect(error.message).toBe(
        'fleet.yaml:3:14: hosts.a.mode must be one of switch, boot, test, dry-activate (got "nope")',
      );
    }
  });
});

describe('privilege escalation', () => {
  it('takes sudo, doas, run0 or words of the user\'s own, from defaults or the host', () => {
    const text = yaml(
      'version: 1',
      'defaults: { privilegeEscalation: doas }',
      'hosts:',
      '  a: {}',
      '  b: { privilegeEscalation: run0 }',
      '  c: { privilegeEscalation: [sudo, -H, --] }',
      '  d: { privilegeEscalation: sudo, askSudoPassword: true }',
    );
    expect(['a', 'b', 'c', 'd'].map((name) => host(text, name).escalation)).toEqual([
      { method: 'doas', askPassword: false },
      { method: 'run0', askPassword: false },
      { method: { argv: ['sudo', '-H', '--'] }, askPassword: false },
      { method: 'sudo', askPassword: true },
    ]);
  });

  it('refuses a password for doas, run0 and words of the user\'s own, at the askSudoPassword that asks for it', () => {
    const text = yaml(
      'version: 1',
      'defaults: { askSudoPassword: true }',
      'hosts:',
      '  a: { privilegeEscalation: doas }',
      '  b: { privilegeEscalation: run0, askSudoPassword: true }',
      '  c: { privilegeEscalation: [pkexec] }',
      '  d: {}',
    );
    expect(problems(text)).toEqual([
      '2:30: defaults.askSudoPassword: doas reads a password only from a terminal, which fleet\'s commands do not have: permit the user with nopass in doas.conf, or use privilegeEscalation: sudo',
      '2:30: defaults.askSudoPassword: fleet hands a password only to privilegeEscalation: sudo (as `sudo -S -k -p \'\'`), not to a command of your own',
      '5:52: hosts.b.askSudoPassword: run0 asks polkit\'s agent on a terminal, which fleet\'s commands do not have: allow the user with a polkit rule (org.freedesktop.systemd1.manage-units), or use privilegeEscalation: sudo',
    ]);
  });

  it('says what privilegeEscalation takes when it is neither a known tool nor a list of words', () => {
    expect(problems(yaml('version: 1', 'hosts:', '  a: { privilegeEscalation: sudu }', '  b: { privilegeEscalation: [] }'))).toEqual([
      '3:29: hosts.a.privilegeEscalation must be sudo, doas, run0, or a non-empty list of words put before each privileged command (got "sudu")',
      '4:29: hosts.b.privilegeEscalation must be sudo, doas, run0, or a non-empty list of words put before each privileged command (got an empty list)',
    ]);
  });
});
