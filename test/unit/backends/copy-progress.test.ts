// Reading nix copy's own lines (Nix 2.8, as the lab shows them) into paths copied of the paths to copy.
import { describe, expect, it } from 'vitest';
import { CopyProgress } from '../../../src/backends/copy-progress.js';

describe('copy progress', () => {
  it('takes the count nix announces and counts a line per path', () => {
    const p = new CopyProgress();
    expect(p.read('copying 3 paths...')).toBe(true);
    expect([p.copied, p.total]).toEqual([0, 3]);
    expect(p.read("copying path '/nix/store/lmsisb0a0caxj2gapzqnx1gki913w667-lab-sw-r216' to 'ssh://root@10.0.0.2'...")).toBe(true);
    expect(p.read("copying path '/nix/store/050k2vyfdynlgvajshdcv182342zxxi8-nixos-system-h16' to 'ssh://root@10.0.0.2'...")).toBe(true);
    expect([p.copied, p.total]).toEqual([2, 3]);
  });

  it('ignores other lines, and never shows more copied than the total', () => {
    const p = new CopyProgress();
    expect(p.read("warning: the group 'nixbld' specified in 'build-users-group' does not exist")).toBe(false);
    expect(p.read('copying 1 path...')).toBe(true);
    expect(p.total).toBe(1);
    p.read("copying path '/nix/store/aaaa-a' to 'ssh://h'...");
    p.read("copying path '/nix/store/bbbb-b' to 'ssh://h'...");
    expect([p.copied, p.total]).toEqual([2, 2]);
    expect(p.read("error: cannot add path '/nix/store/bbbb-b' because it lacks a valid signature")).toBe(false);
  });

  it('counts what is sent from here, not what the target substitutes from its cache (its relayed lines)', () => {
    const p = new CopyProgress();
    p.read("copying path '/nix/store/61179mhfawxg114q5c3yvhbyybqng23a-lab-shared-payload-rdme1-24m' from 'http://10.231.56.254:8080'...");
    p.read('copying 2 paths...');
    p.read("copying path '/nix/store/nrjrp8bg0l0vfhhkz4r8nawrzqdd37yv-lab-host-payload-web1-r2' to 'ssh://root@10.231.56.2'...");
    p.read("copying path '/nix/store/h9q5il1g4j7fskibrrrk6cnd69xiz6b9-nixos-system-web1-25.11.lab-r2' to 'ssh://root@10.231.56.2'...");
    expect([p.copied, p.total]).toEqual([2, 2]);
    expect(p.paths).toEqual(['/nix/store/nrjrp8bg0l0vfhhkz4r8nawrzqdd37yv-lab-host-payload-web1-r2', '/nix/store/h9q5il1g4j7fskibrrrk6cnd69xiz6b9-nixos-system-web1-25.11.lab-r2']);
  });
});
