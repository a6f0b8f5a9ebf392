// validate = plan: what the manifest refuses in ssh options and paths is exactly what the ssh layer cannot pass on.
import { describe, expect, it } from 'vitest';
import { sshOptionProblem, sshPathProblem } from '../../../src/manifest/ssh-words.js';
import { nixSshOpts, type SshSettings } from '../../../src/ssh/index.js';
import { parse, yaml } from './helpers.js';

const settings = (overrides: Partial<SshSettings>): SshSettings => ({
  endpoint: { kind: 'ssh', user: 'root', host: 'web-1', port: 22 },
  knownHostsFiles: ['/tmp/fleet-0123456789/known_hosts'],
  trustOnFirstUse: false,
  controlDir: '/tmp/fleet-0123456789',
  extraOptions: [],
  connectTimeout: 10,
  ...overrides,
});

/** Whether src/ssh builds NIX_SSHOPTS for these settings (plan time) or refuses. */
const planAccepts = (overrides: Partial<SshSettings>): boolean => {
  try {
    nixSshOpts(settings(overrides));
    return true;
  } catch {
    return false;
  }
};

const OPTIONS = [
  'ConnectTimeout=5',
  'ProxyJump=admin@bastion:2222',
  'SetEnv=GREETING="it\'s"',
  'SetEnv=A=\\"b',
  'ProxyCommand=touch /tmp/x',
  'SetEnv=A=\tb',
  'SetEnv=A=b\u00a0c',
  'SetEnv=A="b',
  "SetEnv=A='b",
  'LocalCommand=$(reboot)',
];

const PATHS = [
  '/home/alice/.ssh/id_ed25519',
  '/keys/deploy-1.key',
  '/srv/my infra/keys/deploy',
  '/keys/o\'brien',
  '/keys/"x"',
  '/keys/a\\b',
  '/keys/%h',
  '/keys/${USER}',
  '/keys/$HOME',
  '/keys/ünïcode',
];

describe('ssh.options entries', () => {
  it.each<[string, boolean]>([
    ['ConnectTimeout=5', true],
    ['ProxyJump=admin@bastion:2222', true],
    ['SetEnv=GREETING="it\'s"', true],
    ['SetEnv=A=\\"b', true],
    ['ProxyCommand=touch /tmp/x', false],
    ['SetEnv=A=\tb', false],
    ['SetEnv=A="b', false],
    ["SetEnv=A='b", false],
  ])('%j accepted: %s', (option, ok) => {
    expect(sshOptionProblem(option) === undefined).toBe(ok);
  });

  it.each(OPTIONS)('%j: refused by validate whenever plan refuses it', (option) => {
    if (!planAccepts({ extraOptions: [option] })) expect(sshOptionProblem(option)).toBeDefined();
    if (sshOptionProblem(option) === undefined) expect(planAccepts({ extraOptions: [option] })).toBe(true);
  });
});

describe('identity files', () => {
  it.each<[string, boolean]>([
    ['/home/alice/.ssh/id_ed25519', true],
    ['/keys/$HOME', true],
    ['/keys/ünïcode', true],
    ['/srv/my infra/keys/deploy', false],
    ["/keys/o'brien", false],
    ['/keys/"x"', false],
    ['/keys/a\\b', false],
    ['/keys/%h', false],
    ['/keys/${USER}', false],
  ])('%j accepted: %s', (path, ok) => {
    expect(sshPathProblem(path, 'IdentityFile') === undefined).toBe(ok);
  });

  it.each(PATHS)('%j: refused by validate whenever plan refuses it', (path) => {
    if (!planAccepts({ identityFile: path })) expect(sshPathProblem(path, 'IdentityFile')).toBeDefined();
    if (!planAccepts({ knownHostsFiles: [path], trustOnFirstUse: true })) {
      expect(sshPathProblem(path, 'UserKnownHostsFile')).toBeDefined();
    }
  });
});

describe('a manifest within the rules', () => {
  it('validates, and its values reach the inventory as written', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'ssh:',
        `  options: [ConnectTimeout=5, 'SetEnv=GREETING="it''s"']`,
        'defaults:',
        '  identityFile: ~/.ssh/id_ed25519',
        '  trustOnFirstUse: true',
        'hosts:',
        '  web-1: {}',
        '  desk: { target: local }',
      ),
    );
    expect(inventory.sshOptions).toEqual(['ConnectTimeout=5', 'SetEnv=GREETING="it\'s"']);
    expect(inventory.hosts.map((h) => [h.name, h.identityFile, h.trustOnFirstUse])).toEqual([
      ['web-1', '/home/alice/.ssh/id_ed25519', true],
      ['desk', '/home/alice/.ssh/id_ed25519', true],
    ]);
  });

  it('lets a local host trust on first use beside a manifest in a directory with white space (no ssh there)', () => {
    const inventory = parse(yaml('version: 1', 'hosts:', '  desk: { target: local, trustOnFirstUse: true }'), {}, '/srv/my infra');
    expect(inventory.hosts[0]?.trustOnFirstUse).toBe(true);
  });
});
