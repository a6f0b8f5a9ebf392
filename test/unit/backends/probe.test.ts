import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProbe, provenNotNixos } from '../../../src/backends/index.js';
import { PROBE_SCRIPT } from '../../../src/plan/index.js';

describe('parseProbe', () => {
  it('reads the facts and key digests', () => {
    const facts = parseProbe(
      ['nixos=yes', 'current=/nix/store/a-sys', 'booted=/nix/store/a-sys', 'profile=/nix/store/b-sys', 'generation=7', 'systemd=no', 'bootId=xyz', 'freeNixKiB=1024', 'key:ssh_host_ed25519_key=abc', 'key:global_ed25519=missing', 'end=ok'].join('\n'),
      'web-1',
    );
    expect(facts).toMatchObject({ nixos: true, current: '/nix/store/a-sys', profile: '/nix/store/b-sys', generation: 7, systemd: false, freeNixKiB: 1024 });
    expect(facts.keys).toEqual({ ssh_host_ed25519_key: 'abc', global_ed25519: 'missing' });
    expect(provenNotNixos(facts)).toBe(false);
  });

  it('refuses a cut-off or garbled answer, so nothing destructive is decided on it', () => {
    expect(() => parseProbe('nixos=no\ncurrent=\n', 'web-1')).toThrow(/unexpected answer/);
    expect(() => parseProbe('nixos=maybe\nend=ok\n', 'web-1')).toThrow(/unexpected answer/);
  });

  it('only a target with neither /etc/NIXOS nor a live system is proven not NixOS', () => {
    expect(provenNotNixos(parseProbe('nixos=no\ncurrent=\nend=ok', 'h'))).toBe(true);
    expect(provenNotNixos(parseProbe('nixos=no\ncurrent=/nix/store/x\nend=ok', 'h'))).toBe(false);
  });

  it('the real probe script answers in that format on this machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-'));
    writeFileSync(join(dir, 'k'), 'secret');
    const out = execFileSync('sh', ['-c', PROBE_SCRIPT, 'fleet-probe', '-', dir, 'k', 'absent'], { encoding: 'utf8' });
    const facts = parseProbe(out, 'local');
    expect(facts.keys.k).toBe('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
    expect(facts.keys.absent).toBe('missing');
    expect(facts.closure).toBeUndefined();
    expect(out).not.toContain('secret');
  });

  it('says whether a closure is in the store when asked, as nix-store --check-validity does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-probe-'));
    const absent = execFileSync('sh', ['-c', PROBE_SCRIPT, 'fleet-probe', '/nix/store/00000000000000000000000000000000-not-there', dir], { encoding: 'utf8' });
    expect(parseProbe(absent, 'local').closure).toBe('absent');
  });
});
