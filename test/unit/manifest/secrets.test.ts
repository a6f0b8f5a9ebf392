// Secrets in the manifest: sources, defaults merged by name, destinations, and the one-line errors.
import { describe, expect, it } from 'vitest';
import { BASE, parse, problems, yaml } from './helpers.js';

describe('secrets', () => {
  it('merges defaults and a host by name (a host entry replaces the default whole), with the built-in values', () => {
    const inventory = parse(
      yaml(
        'version: 1',
        'defaults:',
        '  secrets:',
        '    grafana-admin: { command: [pass, show, infra/grafana], owner: grafana, group: grafana, mode: "440" }',
        '    shared: { file: ./secrets/shared }',
        'hosts:',
        '  web-1:',
        '    secrets:',
        '      shared: { env: SHARED_TOKEN, destination: /etc/app/token, upload: after-activation }',
        '  web-2: {}',
      ),
    );
    const [web1, web2] = inventory.hosts;
    expect(web1!.secrets).toEqual([
      {
        name: 'grafana-admin',
        source: { kind: 'command', argv: ['pass', 'show', 'infra/grafana'], cwd: BASE },
        destination: '/run/keys/grafana-admin',
        owner: 'grafana',
        group: 'grafana',
        mode: '0440',
        upload: 'before-activation',
      },
      { name: 'shared', source: { kind: 'env', name: 'SHARED_TOKEN' }, destination: '/etc/app/token', owner: 'root', group: 'root', mode: '0400', upload: 'after-activation' },
    ]);
    expect(web2!.secrets.map((s) => [s.name, s.source])).toEqual([
      ['grafana-admin', { kind: 'command', argv: ['pass', 'show', 'infra/grafana'], cwd: BASE }],
      ['shared', { kind: 'file', path: `${BASE}/secrets/shared` }],
    ]);
  });

  it('says where a field of a secret is not what it must be', () => {
    expect(
      problems(
        yaml(
          'version: 1',
          'hosts:',
          '  web-1:',
          '    secrets:',
          '      d: { env: 1BAD, mode: "999", owner: "-o", upload: later }',
        ),
      ),
    ).toEqual([
      '5:17: hosts.web-1.secrets.d.env must be an environment variable name (letters, digits and "_", not starting with a digit) (got "1BAD")',
      '5:29: hosts.web-1.secrets.d.mode must be an octal mode such as "0400" or "640" (a string: quote it in YAML) (got "999")',
      '5:43: hosts.web-1.secrets.d.owner must be a user or group name (a letter or "_", then letters, digits, "_", "." or "-") (got "-o")',
      '5:57: hosts.web-1.secrets.d.upload must be one of before-activation, after-activation (got "later")',
    ]);
  });

  it('says where a secret has no source, two sources, a shared destination or a directory for a destination', () => {
    expect(
      problems(
        yaml(
          'version: 1',
          'defaults:',
          '  secrets:',
          '    none: { owner: root }',
          'hosts:',
          '  web-1:',
          '    secrets:',
          '      two: { file: ./a, env: A }',
          '      a: { file: ./a, destination: /run/keys/x }',
          '      b: { env: B, destination: /run/keys/x }',
          '      c: { env: C, destination: /run/keys/ }',
          '  web-2: {}',
        ),
      ),
    ).toEqual([
      '4:5: defaults.secrets.none has no source: give exactly one of command, file or env',
      '8:7: hosts.web-1.secrets.two has 2 sources (file, env): give exactly one of command, file or env',
      '10:7: hosts.web-1: secrets "a" and "b" both go to /run/keys/x',
      '11:33: hosts.web-1.secrets.c.destination "/run/keys/" must name a file (no trailing "/", no "." or ".." parts)',
    ]);
  });
});
