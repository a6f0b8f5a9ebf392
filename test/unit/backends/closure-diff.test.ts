// The closure diff: store path names split as Nix does, the diff script's answer parsed, packages compared.
import { describe, expect, it } from 'vitest';
import { HostError } from '../../../src/errors.js';
import { diffClosures, diffSummary, formatByteDelta, formatBytes, packageNameVersion, parseClosureListing } from '../../../src/backends/index.js';

const h = (c: string) => c.repeat(32);
const p = (c: string, name: string) => `/nix/store/${h(c)}-${name}`;

describe('packageNameVersion', () => {
  it.each([
    [p('a', 'lab-tool-1.0'), 'lab-tool', '1.0'],
    [p('b', 'nixos-system-web1-25.11.20260101.abcdef'), 'nixos-system-web1', '25.11.20260101.abcdef'],
    [p('c', 'glibc-2.40-66-bin'), 'glibc', '2.40-66'],
    [p('d', 'openssl-3.0.14-lib64'), 'openssl', '3.0.14'],
    [p('e', 'etc'), 'etc', ''],
    [p('f', 'lab-sw-r1'), 'lab-sw-r1', ''],
    [p('g', 'python3.12-requests-2.32.3'), 'python3.12-requests', '2.32.3'],
    [p('h', 'unit-script-foo-start'), 'unit-script-foo', ''],
  ])('%s → %s %s', (path, name, version) => {
    expect(packageNameVersion(path)).toEqual({ name, version });
  });
});

describe('parseClosureListing', () => {
  it('reads both closures with their sizes, in order', () => {
    const text = ['from /nix/store/old', 'to /nix/store/new', 'paths from', '/nix/store/old', 'sizes from', '10', 'paths to', '/nix/store/new', '/nix/store/dep', 'sizes to', '20', '30', 'end ok', ''].join('\n');
    expect(parseClosureListing(text, 'web-1')).toEqual({
      from: '/nix/store/old',
      to: '/nix/store/new',
      fromClosure: [{ path: '/nix/store/old', narSize: 10 }],
      toClosure: [
        { path: '/nix/store/new', narSize: 20 },
        { path: '/nix/store/dep', narSize: 30 },
      ],
    });
  });

  it('an empty `from` (no live system) and a same system have no closures', () => {
    expect(parseClosureListing('from \nto /nix/store/new\nend ok\n', 'web-1')).toMatchObject({ from: '', to: '/nix/store/new', fromClosure: [] });
  });

  it.each([
    ['a cut-off answer', 'from /nix/store/old\nto /nix/store/new\npaths from\n/nix/store/old\n', /ended early/],
    ['paths without sizes', 'from /a\nto /b\npaths from\n/nix/store/old\nsizes from\nend ok\n', /1 paths but 0 sizes/],
    ['a size that is no number', 'from /a\nto /b\npaths from\n/nix/store/old\nsizes from\nlots\nend ok\n', /unexpected line/],
  ])('%s is a host error at diff', (_what, text, message) => {
    expect(() => parseClosureListing(text, 'web-1')).toThrow(HostError);
    expect(() => parseClosureListing(text, 'web-1')).toThrow(message);
  });
});

describe('diffClosures', () => {
  const listing = (from: [string, number][], to: [string, number][]) => ({
    from: from[0]![0],
    to: to[0]![0],
    fromClosure: from.map(([path, narSize]) => ({ path, narSize })),
    toClosure: to.map(([path, narSize]) => ({ path, narSize })),
  });

  it('groups by package: changed in version, added, removed; a rebuild of the same version is only a path change', () => {
    const diff = diffClosures(
      listing(
        [[p('1', 'nixos-system-web1-25.11.r1'), 100], [p('2', 'lab-tool-1.0'), 4000], [p('3', 'lab-old-0.9'), 2000], [p('4', 'etc'), 500]],
        [[p('5', 'nixos-system-web1-25.11.r2'), 100], [p('6', 'lab-tool-1.1'), 12000], [p('7', 'lab-new-2.0'), 3000], [p('8', 'etc'), 600]],
      ),
    );
    expect(diff).toEqual({
      kind: 'changes',
      from: p('1', 'nixos-system-web1-25.11.r1'),
      to: p('5', 'nixos-system-web1-25.11.r2'),
      changed: [
        { name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8000 },
        { name: 'nixos-system-web1', from: ['25.11.r1'], to: ['25.11.r2'], sizeDelta: 0 },
      ],
      added: [{ name: 'lab-new', from: [], to: ['2.0'], sizeDelta: 3000 }],
      removed: [{ name: 'lab-old', from: ['0.9'], to: [], sizeDelta: -2000 }],
      closure: { fromPaths: 4, toPaths: 4, pathsAdded: 4, pathsRemoved: 4, fromBytes: 6600, toBytes: 15700 },
    });
    expect(diffSummary(diff)).toBe('2 packages changed, 1 added, 1 removed; closure +8.9 KiB');
  });

  it('the same system is "no changes"; no live system is "not installed"', () => {
    expect(diffClosures({ from: '/nix/store/x', to: '/nix/store/x', fromClosure: [], toClosure: [] })).toEqual({ kind: 'same', system: '/nix/store/x' });
    expect(diffSummary({ kind: 'same', system: '/nix/store/x' })).toBe('no changes');
    expect(diffClosures({ from: '', to: '/nix/store/x', fromClosure: [], toClosure: [] })).toEqual({ kind: 'not-installed', to: '/nix/store/x' });
  });

  it('sizes read as Nix prints them', () => {
    expect(formatBytes(536)).toBe('536 B');
    expect(formatBytes(8192)).toBe('8.0 KiB');
    expect(formatBytes(3 * 1024 * 1024 * 1024)).toBe('3.0 GiB');
    expect(formatByteDelta(-2048)).toBe('-2.0 KiB');
    expect(formatByteDelta(0)).toBe('±0 B');
  });
});
