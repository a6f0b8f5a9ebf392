// Table of broken manifests: each must be rejected with exactly these messages at exactly these positions.
import { describe, expect, it } from 'vitest';
import { blob, KEYS, problems, yaml } from './helpers.js';

const SAFE_WORD = 'a safe word (letters, digits, ".", "_" and "-", starting with a letter or digit)';
const MODES = 'one of switch, boot, test, dry-activate';

const NIX_SSHOPTS =
  'contains white space, which NIX_SSHOPTS cannot carry (nix and nixos-rebuild split it at every space); put such an option in ~/.ssh/config instead';
const PATH_SPACE =
  'contains white space, which ssh options cannot carry (NIX_SSHOPTS is split at every space, and ssh reads a space in an option as a separator)';

const cases: { name: string; text: string; expected: string[]; env?: Record<string, string>; baseDir?: string }[] = [
  {
    name: 'YAML syntax error (unclosed flow sequence)',
    text: yaml('version: 1', 'hosts: [a, b'),
    expected: ['3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'YAML syntax error (tab indentation)',
    text: yaml('version: 1', '\thosts: {}'),
    expected: ['2:1: invalid YAML: Tabs are not allowed as indentation'],
  },
  {
    name: 'a list instead of a mapping',
    text: yaml('- web-1', '- web-2'),
    expected: ['1:1: the manifest must be a mapping with at least "version: 1" (got a list)'],
  },
  {
    name: 'an empty file',
    text: '',
    expected: ['1:1: the manifest must be a mapping with at least "version: 1" (got nothing)'],
  },
  {
    name: 'a plain string',
    text: yaml('hello'),
    expected: ['1:1: the manifest must be a mapping with at least "version: 1" (got "hello")'],
  },
  {
    name: 'missing version',
    text: yaml('hosts:', '  web-1: {}'),
    expected: ['1:1: missing required key "version"'],
  },
  {
    name: 'version other than 1',
    text: yaml('version: 2'),
    expected: ['1:10: version must be 1 (got 2)'],
  },
  {
    name: 'version as a string',
    text: yaml('version: "1"'),
    expected: ['1:10: version must be 1 (got "1")'],
  },
  {
    name: 'unknown top-level key with a suggestion',
    text: yaml('version: 1', 'hots:', '  web-1: {}'),
    expected: ['2:1: unknown key "hots" (did you mean "hosts"?)'],
  },
  {
    name: 'unknown top-level key without a suggestion',
    text: yaml('version: 1', 'colour: blue'),
    expected: ['2:1: unknown key "colour"'],
  },
  {
    name: 'unknown host key, abbreviated',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    tgt: 10.0.0.1'),
    expected: ['4:5: hosts.web-1: unknown key "tgt" (did you mean "target"?)'],
  },
  {
    name: 'unknown key in keys, wrong case',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    keys:', '      hostkeyfile: ./k'),
    expected: ['5:7: hosts.web-1.keys: unknown key "hostkeyfile" (did you mean "hostKeyFile"?)'],
  },
  {
    name: 'misspelt mode',
    text: yaml('version: 1', 'hosts:', '  vps-pacman:', '    mode: swtich'),
    expected: [`4:11: hosts.vps-pacman.mode must be ${MODES} (got "swtich")`],
  },
  {
    name: 'empty mode points at its key',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    mode:'),
    expected: [`4:5: hosts.web-1.mode must be ${MODES} (got nothing)`],
  },
  {
    name: 'port out of range',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    port: 70000'),
    expected: ['4:11: hosts.web-1.port must be an integer from 1 to 65535 (got 70000)'],
  },
  {
    name: 'port as a string',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    port: "22"'),
    expected: ['4:11: hosts.web-1.port must be an integer from 1 to 65535 (got "22")'],
  },
  {
    name: 'duplicate host',
    text: yaml('version: 1', 'hosts:', '  web-1: {}', '  web-1: {}'),
    expected: ['4:3: hosts: duplicate key "web-1"'],
  },
  {
    name: 'duplicate top-level key',
    text: yaml('version: 1', 'parallel: 2', 'parallel: 3'),
    expected: ['3:1: duplicate key "parallel"'],
  },
  {
    name: 'host name that is not a safe word',
    text: yaml('version: 1', 'hosts:', '  "web 1": {}'),
    expected: [`3:3: hosts: host name "web 1" must be ${SAFE_WORD}`],
  },
  {
    name: 'host that is not a mapping',
    text: yaml('version: 1', 'hosts:', '  web-1: yes'),
    expected: ['3:10: hosts.web-1 must be a mapping (got "yes")'],
  },
  {
    name: 'host with nothing after its name',
    text: yaml('version: 1', 'hosts:', '  web-1:', '  web-2: {}'),
    expected: ['3:3: hosts.web-1 must be a mapping (got nothing; write {} for a mapping with no settings)'],
  },
  {
    name: 'hosts as a list',
    text: yaml('version: 1', 'hosts:', '  - web-1'),
    expected: ['3:3: hosts must be a mapping (got a list)'],
  },
  {
    name: 'negative parallel',
    text: yaml('version: 1', 'parallel: -1'),
    expected: ['2:11: parallel must be an integer of at least 0 (got -1)'],
  },
  {
    name: 'evalLimit of zero',
    text: yaml('version: 1', 'evalLimit: 0'),
    expected: ['2:12: evalLimit must be an integer of at least 1 (got 0)'],
  },
  {
    name: 'flake with an attribute',
    text: yaml('version: 1', 'flake: ".#web-1"'),
    expected: ['2:8: flake must be a flake path or reference without "#attribute", NUL or line breaks (got ".#web-1")'],
  },
  {
    name: 'empty command list',
    text: yaml('version: 1', 'commands:', '  nix: []'),
    expected: ['3:8: commands.nix must be a non-empty list of non-empty strings (got an empty list)'],
  },
  {
    name: 'ssh option that is a flag',
    text: yaml('version: 1', 'ssh:', '  options:', '    - -oStrictHostKeyChecking=no'),
    expected: [
      '4:7: ssh.options[0] must be an ssh option written Key=Value (got "-oStrictHostKeyChecking=no")',
    ],
  },
  {
    name: 'target that tries to smuggle an ssh option',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: "-oProxyCommand=sh"'),
    expected: ['4:13: hosts.web-1.target must be "local" or [user@]host[:port] (got "-oProxyCommand=sh")'],
  },
  {
    name: 'target with a shell substitution',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: "root@$(reboot)"'),
    expected: ['4:13: hosts.web-1.target must be "local" or [user@]host[:port] (got "root@$(reboot)")'],
  },
  {
    name: 'target port out of range',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: web-1:99999'),
    expected: ['4:13: hosts.web-1.target: port 99999 is out of range (1 to 65535)'],
  },
  {
    name: 'target with a broken bare IPv6 address',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: "fe80::1::2"'),
    expected: [
      '4:13: hosts.web-1.target: "fe80::1::2" is not an IPv6 address (write [address]:port to give a port)',
    ],
  },
  {
    name: 'user that contradicts the target',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: alice@web-1', '    user: bob'),
    expected: ['5:11: hosts.web-1.user "bob" conflicts with the user in target "alice@web-1"'],
  },
  {
    name: 'port that contradicts the target',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    target: web-1:2222', '    port: 22'),
    expected: ['5:11: hosts.web-1.port 22 conflicts with the port in target "web-1:2222"'],
  },
  {
    name: 'user with a local target',
    text: yaml('version: 1', 'hosts:', '  desk:', '    target: local', '    user: alice'),
    expected: ['5:11: hosts.desk.user has no meaning with target: local (fleet runs there without ssh)'],
  },
  {
    name: 'bootstrap of the local machine',
    text: yaml('version: 1', 'hosts:', '  desk:', '    target: local', '    bootstrap: true'),
    expected: [
      '5:5: hosts.desk.bootstrap: a host with target: local cannot be bootstrapped (nixos-anywhere would wipe the machine fleet runs on)',
    ],
  },
  {
    name: 'bootstrap of the local machine through defaults',
    text: yaml('version: 1', 'defaults:', '  bootstrap: {}', 'hosts:', '  desk:', '    target: local'),
    expected: [
      '6:13: hosts.desk: target local cannot be bootstrapped, but defaults.bootstrap applies to it (set bootstrap: false on this host)',
    ],
  },
  {
    name: 'bootstrap as a word',
    text: yaml('version: 1', 'hosts:', '  vps:', '    bootstrap: "yes"'),
    expected: ['4:16: hosts.vps.bootstrap must be true, false or a mapping (got "yes")'],
  },
  {
    name: 'unknown bootstrap phase',
    text: yaml('version: 1', 'hosts:', '  vps:', '    bootstrap:', '      phases: [format, install]'),
    expected: [
      '5:16: hosts.vps.bootstrap.phases[0] must be one of disko, install, reboot, kexec (got "format")',
    ],
  },
  {
    name: 'relative disk encryption key destination',
    text: yaml(
      'version: 1',
      'hosts:',
      '  vps:',
      '    bootstrap:',
      '      diskEncryptionKeys:',
      '        - remote: tmp/disk.key',
      '          local: ./disk.key',
    ),
    expected: [
      '6:19: hosts.vps.bootstrap.diskEncryptionKeys[0].remote must be an absolute path (starting with "/", without NUL or line breaks) (got "tmp/disk.key")',
    ],
  },
  {
    name: 'hardware config generator missing its path',
    text: yaml(
      'version: 1',
      'hosts:',
      '  vps:',
      '    bootstrap:',
      '      generateHardwareConfig:',
      '        backend: nixos-facter',
    ),
    expected: ['6:9: hosts.vps.bootstrap.generateHardwareConfig: missing required key "path"'],
  },
  {
    name: 'keys with nothing to push',
    text: yaml('version: 1', 'hosts:', '  vps:', '    keys:', '      push: always'),
    expected: [
      '4:5: hosts.vps.keys: push is "always" but there is nothing to push (set hostKeyFile, hostKeySearch or agenixKeyFile, or push: never)',
    ],
  },
  {
    name: 'keys.generate without a place to keep the key',
    text: yaml(
      'version: 1',
      'hosts:',
      '  vps:',
      '    keys:',
      '      agenixKeyFile: ./secrets/age.key',
      '      generate: true',
    ),
    expected: [
      '6:17: hosts.vps.keys.generate needs hostKeyFile or hostKeySearch to know where to keep the new key',
    ],
  },
  {
    name: 'relative keys destination',
    text: yaml('version: 1', 'hosts:', '  vps:', '    keys:', '      push: never', '      destination: etc/ssh'),
    expected: [
      '6:20: hosts.vps.keys.destination must be an absolute path (starting with "/", without NUL or line breaks) (got "etc/ssh")',
    ],
  },
  {
    name: 'agenix key name with a slash',
    text: yaml('version: 1', 'hosts:', '  vps:', '    keys:', '      push: never', '      agenixKeyName: ../shadow'),
    expected: [`6:22: hosts.vps.keys.agenixKeyName must be ${SAFE_WORD} (got "../shadow")`],
  },
  {
    name: 'host key without a type',
    text: yaml('version: 1', 'hosts:', '  web-1:', `    hostKey: ${blob(KEYS.a)}`),
    expected: [
      `4:14: hosts.web-1.hostKey must be an SSH public key like "ssh-ed25519 AAAA…", or a non-empty list of them (got "${blob(KEYS.a)}")`,
    ],
  },
  {
    name: 'host key whose data is another type',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    hostKey:', `      - ssh-ed25519 ${blob(KEYS.rsa)}`),
    expected: ['5:9: hosts.web-1.hostKey[0] is not a valid ssh-ed25519 key: its data says "ssh-rsa"'],
  },
  {
    name: 'path with a line break',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: "./id\\nrm -rf /"'),
    expected: [
      '4:19: hosts.web-1.identityFile must be a path without NUL or line breaks (got "./id\\nrm -rf /")',
    ],
  },
  {
    name: 'home-relative path without HOME',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: ~/.ssh/id_ed25519'),
    env: {},
    expected: ['4:19: hosts.web-1.identityFile starts with "~" but HOME is not set'],
  },
  {
    name: 'build host with a port out of range',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    buildHost: "[::1]:99999"'),
    expected: [
      '4:16: hosts.web-1.buildHost must be "local", "target", a host of this manifest or [user@]host[:port]: port 99999 is out of range (1 to 65535)',
    ],
  },
  {
    name: 'build on a target that is to be bootstrapped',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    buildHost: target', '    bootstrap: {}'),
    expected: [
      '4:16: hosts.web-1.buildHost "target" cannot build for web-1, which has bootstrap options: its target is not NixOS (nor has Nix) until it is installed; build it here or on a build host',
    ],
  },
  {
    name: 'build host that is not an endpoint',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    buildHost: "builder one"'),
    expected: ['4:16: hosts.web-1.buildHost must be "local" or [user@]host[:port] (got "builder one")'],
  },
  {
    name: 'target as a default',
    text: yaml('version: 1', 'defaults:', '  target: web-1', 'hosts:', '  web-1: {}'),
    expected: [
      '3:3: defaults: "target" cannot be a default (each host has its own; it defaults to the host\'s name)',
    ],
  },
  {
    name: 'health check without a command',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    healthChecks:', '      - name: http'),
    expected: ['5:9: hosts.web-1.healthChecks[0]: missing required key "command"'],
  },
  {
    name: 'health checks with the same name',
    text: yaml(
      'version: 1',
      'hosts:',
      '  web-1:',
      '    healthChecks:',
      '      - { name: http, command: "curl -f localhost" }',
      '      - { name: http, command: [curl, -f, localhost] }',
    ),
    expected: ['6:17: hosts.web-1.healthChecks[1].name "http" is used twice'],
  },
  {
    name: 'health check command word that is not a string',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    healthChecks:', '      - { name: up, command: [true] }'),
    expected: ['5:31: hosts.web-1.healthChecks[0].command[0] must be a non-empty string (got true)'],
  },
  {
    name: 'rollback timeout of zero',
    text: yaml('version: 1', 'defaults:', '  rollback:', '    timeout: 0'),
    expected: ['4:14: defaults.rollback.timeout must be a whole number of seconds, at least 1 (got 0)'],
  },
  {
    name: 'repeated tag',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    tags: [web, web]'),
    expected: ['4:17: hosts.web-1.tags lists "web" more than once'],
  },
  {
    name: 'unknown key brought in by a YAML merge points at where it is written',
    text: yaml('version: 1', 'defaults:', '  tags: &t [a]', 'hosts:', '  web-1:', '    <<: { tgt: x }'),
    expected: ['6:11: hosts.web-1: unknown key "tgt" (did you mean "target"?)'],
  },
  // What `fleet plan` refuses (src/ssh nixSshOpts) or ssh would misread, found by `fleet validate` with positions.
  {
    name: 'ssh option with white space (NIX_SSHOPTS cannot carry it)',
    text: yaml('version: 1', 'ssh:', '  options: [ConnectTimeout=5, "ProxyCommand=touch /tmp/x"]', 'hosts:', '  web-1: {}'),
    expected: [`3:31: ssh.options[1] "ProxyCommand=touch /tmp/x" ${NIX_SSHOPTS}`],
  },
  {
    name: 'ssh option with a tab',
    text: yaml('version: 1', 'ssh:', '  options:', '    - "SetEnv=A=\tb"'),
    expected: [`4:7: ssh.options[0] "SetEnv=A=\\tb" ${NIX_SSHOPTS}`],
  },
  {
    name: 'ssh option with an unclosed quote',
    text: yaml('version: 1', 'ssh:', '  options:', '    - SetEnv=A="b'),
    expected: ['4:7: ssh.options[0] "SetEnv=A=\\"b" has an unclosed quote: ssh would refuse it on every host ("invalid quotes")'],
  },
  {
    name: 'identity file with white space',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: /keys/deploy key'),
    expected: [`4:19: hosts.web-1.identityFile "/keys/deploy key" ${PATH_SPACE}`],
  },
  {
    name: 'relative identity file under a directory with white space, shown as resolved',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: keys/deploy'),
    baseDir: '/srv/my infra',
    expected: [`4:19: hosts.web-1.identityFile "keys/deploy" ("/srv/my infra/keys/deploy") ${PATH_SPACE}`],
  },
  {
    name: 'identity file with a quote (ssh: invalid quotes)',
    text: yaml('version: 1', 'hosts:', '  web-1:', `    identityFile: "/keys/o'brien"`),
    expected: [
      `4:19: hosts.web-1.identityFile "/keys/o'brien" contains "'", which ssh reads as quoting in an option: the file would not be found`,
    ],
  },
  {
    name: 'identity file with a double quote',
    text: yaml('version: 1', 'hosts:', '  web-1:', `    identityFile: '/keys/"deploy"'`),
    expected: [
      '4:19: hosts.web-1.identityFile "/keys/\\"deploy\\"" contains "\\"", which ssh reads as quoting in an option: the file would not be found',
    ],
  },
  {
    name: 'identity file with a backslash',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: /keys/a\\b'),
    expected: [
      '4:19: hosts.web-1.identityFile "/keys/a\\\\b" contains "\\\\", which ssh reads as quoting in an option: the file would not be found',
    ],
  },
  {
    name: 'identity file with a % token',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: /keys/%h'),
    expected: ['4:19: hosts.web-1.identityFile "/keys/%h" contains "%", which ssh expands as a token in IdentityFile (%d, %h, %u, …)'],
  },
  {
    name: 'identity file with an environment variable',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    identityFile: "/home/${USER}/.ssh/id"'),
    expected: [
      '4:19: hosts.web-1.identityFile "/home/${USER}/.ssh/id" contains "${", which ssh expands as an environment variable in IdentityFile',
    ],
  },
  {
    name: 'identity file in defaults is reported once for all its hosts',
    text: yaml('version: 1', 'defaults:', '  identityFile: /keys/my key', 'hosts:', '  a: {}', '  b: {}', '  c: {}'),
    expected: [`3:17: defaults.identityFile "/keys/my key" ${PATH_SPACE}`],
  },
  {
    name: 'trust on first use beside a manifest in a directory with white space',
    text: yaml('version: 1', 'hosts:', '  web-1:', '    trustOnFirstUse: true', '  web-2:', '    trustOnFirstUse: false'),
    baseDir: '/srv/my infra',
    expected: [
      `4:22: hosts.web-1.trustOnFirstUse: fleet keeps the keys it learns in "/srv/my infra/.fleet/known_hosts.tofu", which ${PATH_SPACE}`,
    ],
  },
  {
    name: 'every ssh problem at once, with the schema\'s',
    text: yaml(
      'version: 1',
      'ssh:',
      '  options: ["ProxyCommand=nc %h 22"]',
      'defaults:',
      '  trustOnFirstUse: true',
      'hosts:',
      '  web-1:',
      '    identityFile: "/keys/o\'brien"',
      '  web-2:',
      '    mode: swtich',
    ),
    baseDir: '/srv/my infra',
    expected: [
      `3:13: ssh.options[0] "ProxyCommand=nc %h 22" ${NIX_SSHOPTS}`,
      `5:20: defaults.trustOnFirstUse: fleet keeps the keys it learns in "/srv/my infra/.fleet/known_hosts.tofu", which ${PATH_SPACE}`,
      `8:19: hosts.web-1.identityFile "/keys/o'brien" contains "'", which ssh reads as quoting in an option: the file would not be found`,
      `10:11: hosts.web-2.mode must be ${MODES} (got "swtich")`,
    ],
  },
];

describe('broken manifests', () => {
  it('has a table of at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('$name', ({ text, expected, env, baseDir }) => {
    expect(problems(text, env ? { env } : {}, baseDir)).toEqual(expected);
  });
});
