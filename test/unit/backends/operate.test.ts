import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  bootedDefault,
  evaluateWantedSystems,
  installRefusal,
  mountPoints,
  parseGenerations,
  parseProbe,
  parseVitals,
  rollbackTarget,
  statusExitCode,
  statusVerdict,
  vitalsProblems,
  type StatusVerdict,
} from '../../../src/backends/index.js';
import { CHECK_SCRIPT } from '../../../src/plan/index.js';
import type { Exec } from '../../../src/exec/index.js';

const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-a';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-b';
const facts = (f: { nixos?: boolean; current?: string; profile?: string; booted?: string }) =>
  parseProbe(`nixos=${f.nixos === false ? 'no' : 'yes'}\ncurrent=${f.current ?? ''}\nprofile=${f.profile ?? ''}\nbooted=${f.booted ?? ''}\nend=ok\n`, 'h');

describe('statusVerdict', () => {
  it.each([
    ['live and boot default wanted', { current: B, profile: B }, 'switch', 'up-to-date'],
    ['neither wanted', { current: A, profile: A }, 'switch', 'outdated'],
    ['boot default wanted, live not', { current: A, profile: B }, 'switch', 'pending-reboot'],
    ['live wanted, boot default not (switch host)', { current: B, profile: A }, 'switch', 'outdated'],
    ['live wanted, boot default not (test host)', { current: B, profile: A }, 'test', 'up-to-date'],
    ['boot host waiting for its reboot', { current: A, profile: B }, 'boot', 'pending-reboot'],
    ['bare machine', { nixos: false }, 'switch', 'not-installed'],
    ['installer with /etc/NIXOS but no system', { nixos: true }, 'switch', 'outdated'],
  ] as const)('%s → %s', (_name, f, mode, verdict) => {
    expect(statusVerdict(facts(f), B, mode)).toBe(verdict);
  });

  it('exit code: errors and unreachable hosts win, then anything not up to date is 3', () => {
    const codes = { ok: 0, failure: 1, outOfSync: 3 };
    const code = (v: StatusVerdict[]) => statusExitCode(v, codes);
    expect(code(['up-to-date', 'up-to-date'])).toBe(0);
    expect(code([])).toBe(0);
    expect(code(['up-to-date', 'outdated'])).toBe(3);
    expect(code(['pending-reboot'])).toBe(3);
    expect(code(['not-installed'])).toBe(3);
    expect(code(['outdated', 'unreachable'])).toBe(1);
    expect(code(['error', 'up-to-date'])).toBe(1);
    // Secrets not all in place put an up-to-date host out of sync; secrets that cannot be checked fail.
    expect(statusExitCode(['up-to-date', 'up-to-date'], codes, ['in-place', undefined])).toBe(0);
    expect(statusExitCode(['up-to-date', 'up-to-date'], codes, ['missing', 'in-place'])).toBe(3);
    expect(statusExitCode(['up-to-date'], codes, ['unknown'])).toBe(1);
  });
});

describe('check vitals', () => {
  it('parses the script, with n/a for failed units without systemd', () => {
    const v = parseVitals('load=0.10 0.20 0.30\nuptime=93784\nsystemd=no\nfailed=n/a\ndf:/=1000 4000\ndf:/nix=10 1000\nend=ok\n')!;
    expect(v).toEqual({
      load: '0.10 0.20 0.30',
      uptimeSeconds: 93784,
      systemd: false,
      failedUnits: undefined,
      disks: [
        { mount: '/', freeKiB: 1000, sizeKiB: 4000 },
        { mount: '/nix', freeKiB: 10, sizeKiB: 1000 },
      ],
    });
    expect(vitalsProblems(v)).toEqual(['/nix is almost full (1% free)']);
  });

  it('failed units are a problem; a cut-off answer is none of the above', () => {
    const v = parseVitals('systemd=yes\nfailed=a.service b.service \nend=ok')!;
    expect(v.failedUnits).toEqual(['a.service', 'b.service']);
    expect(vitalsProblems(v)).toEqual(['failed units: a.service, b.service']);
    expect(parseVitals('systemd=yes\nfailed=\nend=ok')!.failedUnits).toEqual([]);
    expect(parseVitals('load=1 1 1\n')).toBeUndefined();
  });

  it('the real check script answers in that format on this machine', () => {
    const v = parseVitals(execFileSync('sh', ['-c', CHECK_SCRIPT, 'fleet-check'], { encoding: 'utf8' }))!;
    expect(v.load).toMatch(/^\d+\.\d+ \d+\.\d+ \d+\.\d+$/);
    expect(v.uptimeSeconds).toBeGreaterThan(0);
    expect(v.disks.map((d) => d.mount)).toContain('/');
  });
});

describe('generations', () => {
  const answer = [
    'list=   1   2026-11-20 10:00:00   ',
    'list=   2   2026-11-21 11:00:00   ',
    'list=   3   2026-11-22 12:00:00   (current)',
    `link=1 ${A}`,
    `link=2 ${B}`,
    `link=3 /nix/store/cccccccccccccccccccccccccccccccc-nixos-system-c`,
    'default=3',
    `current=${B}`,
    `booted=${A}`,
    'end=ok',
  ].join('\n');

  it('marks live, boot default and booted', () => {
    const list = parseGenerations(answer)!;
    expect(list.generations.map((g) => [g.generation, g.date, g.live, g.bootDefault, g.booted])).toEqual([
      [1, '2026-11-20 10:00:00', false, false, true],
      [2, '2026-11-21 11:00:00', true, false, false],
      [3, '2026-11-22 12:00:00', false, true, false],
    ]);
    expect(parseGenerations(answer.replace('end=ok', ''))).toBeUndefined();
  });

  it('rollback goes to the generation before the boot default, or to --to N if it exists', () => {
    const list = parseGenerations(answer)!;
    expect(rollbackTarget(list, undefined)).toMatchObject({ generation: { generation: 2 } });
    expect(rollbackTarget(list, 1)).toMatchObject({ generation: { generation: 1, storePath: A } });
    expect(rollbackTarget(list, 9)).toEqual({ error: 'generation 9 does not exist (the host has 1, 2, 3)' });
    const first = parseGenerations(`list=   1   2026-11-20 10:00:00   (current)\nlink=1 ${A}\ndefault=1\ncurrent=${A}\nend=ok`)!;
    expect(rollbackTarget(first, undefined)).toEqual({ error: 'no generation before 1 to roll back to' });
  });
});

describe('reboot', () => {
  it('a host booted its boot default when /run/booted-system (else the live system) is the profile', () => {
    expect(bootedDefault({ booted: B, current: B, profile: B })).toEqual({ booted: B, ok: true });
    expect(bootedDefault({ booted: '', current: B, profile: B })).toEqual({ booted: B, ok: true });
    expect(bootedDefault({ booted: A, current: B, profile: B })).toEqual({ booted: A, ok: false });
  });
});

describe('install refusals', () => {
  const mountinfo = [
    '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '95 22 0:50 / /mnt rw,relatime - tmpfs tmpfs rw',
    '96 22 0:51 / /tmp/with\\040space rw,relatime - tmpfs tmpfs rw',
  ].join('\n');
  const none = () => false;

  it('reads mount points, unescaping octal escapes', () => {
    expect(mountPoints(mountinfo)).toEqual(['/', '/mnt', '/tmp/with space']);
  });

  it('refuses a root that is no mount point or holds a NixOS system, unless forced; never /', () => {
    expect(installRefusal('/mnt', { mountinfo, exists: none }, false)).toBeUndefined();
    expect(installRefusal('/tmp/with space', { mountinfo, exists: none }, false)).toBeUndefined();
    expect(installRefusal('/srv', { mountinfo, exists: none }, false)).toMatch(/not a mount point/);
    expect(installRefusal('/mnt', { mountinfo, exists: (p) => p === '/mnt/etc/NIXOS' }, false)).toMatch(/already holds a NixOS system \(\/mnt\/etc\/NIXOS\)/);
    expect(installRefusal('/mnt', { mountinfo, exists: (p) => p.endsWith('profiles/system') }, false)).toMatch(/already holds/);
    expect(installRefusal('/srv', { mountinfo, exists: () => true }, true)).toBeUndefined();
    expect(installRefusal('/', { mountinfo, exists: none }, true)).toMatch(/refusing to install into \//);
  });
});

describe('evaluateWantedSystems', () => {
  const TOOLS = { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };
  /**
   * Runs the evaluator's own `--apply` function with the real nix, on configurations written here:
   * `broken` does not evaluate. What fleet parses is exactly what Nix prints.
   */
  const nixWithConfigurations: Exec = async (request) => {
    const apply = request.argv.at(-1)!;
    const configurations = `let sys = n: { config.system.build.toplevel = { drvPath = "/nix/store/d-" + n + ".drv"; outPath = "/nix/store/o-" + n; }; }; in { a = sys "a"; b = sys "b"; broken = { config.system.build.toplevel = throw "broken does not evaluate"; }; }`;
    const run = spawnSync('nix', ['eval', '--json', '--extra-experimental-features', 'nix-command', '--expr', `(${apply}) (${configurations})`], {
      encoding: 'utf8',
      env: { ...process.env, NIX_CONFIG: 'substituters =\nbuild-users-group =' },
    });
    return { exitCode: run.status, signal: null, stdout: run.stdout, stderr: run.stderr, timedOut: false };
  };

  it('reads each host\'s toplevel from the evaluator, and pins an evaluation error on its host', async () => {
    const ok = await evaluateWantedSystems(TOOLS, '/srv/fleet', ['a', 'b'], nixWithConfigurations);
    expect(Object.fromEntries(ok.paths)).toEqual({ a: '/nix/store/o-a', b: '/nix/store/o-b' });
    expect(ok.errors.size).toBe(0);

    const one = await evaluateWantedSystems(TOOLS, '/srv/fleet', ['a', 'broken', 'b'], nixWithConfigurations);
    expect(Object.fromEntries(one.paths)).toEqual({ a: '/nix/store/o-a', b: '/nix/store/o-b' });
    expect(one.errors.get('broken')).toMatch(/broken does not evaluate/);
  });
});
