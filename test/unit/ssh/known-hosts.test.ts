// Reading known_hosts: plain and hashed names, ports, markers, and ssh-keygen's fingerprints.
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownHostsName, knownKeysFor, sha256Fingerprint } from '../../../src/ssh/index.js';

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIG4Jw0KqgV3xk2S1r4fE2qQ0vS0v9d8m1fHqC7y3mJxK';

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names a host as ssh records it: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName({ kind: 'ssh', user: 'root', host: '10.0.0.1', port: 22 })).toBe('10.0.0.1');
    expect(knownHostsName({ kind: 'ssh', user: 'root', host: 'web-1', port: 2222 })).toBe('[web-1]:2222');
  });

  it('finds a host under plain and hashed names, and nothing under another host, port or marker', () => {
    const text = [
      '# comment',
      `web-1,10.0.0.1 ssh-ed25519 ${KEY}`,
      `${hashed('[db]:2222')} ssh-rsa AAAAB3NzaC1yc2E=`,
      `@revoked web-1 ssh-ed25519 ${KEY}`,
      `[web-1]:2222 ssh-ed25519 ${KEY}`,
      '',
    ].join('\n');
    expect(knownKeysFor(text, 'web-1')).toEqual([{ type: 'ssh-ed25519', key: KEY }]);
    expect(knownKeysFor(text, '10.0.0.1')).toEqual([{ type: 'ssh-ed25519', key: KEY }]);
    expect(knownKeysFor(text, '[db]:2222')).toEqual([{ type: 'ssh-rsa', key: 'AAAAB3NzaC1yc2E=' }]);
    expect(knownKeysFor(text, 'db')).toEqual([]);
    expect(knownKeysFor(text, 'web-2')).toEqual([]);
  });

  it('prints the SHA256 fingerprint exactly as ssh-keygen -l does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const [type, key] = execFileSync('cat', [join(dir, 'k.pub')], { encoding: 'utf8' }).trim().split(/\s+/) as [string, string];
    writeFileSync(join(dir, 'line.pub'), `${type} ${key}\n`);
    const expected = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'line.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
    expect(sha256Fingerprint({ type, key })).toBe(expected);
  });
});
