// Specialisations against real lab hosts: a host's `specialisation:` (and --specialisation) switches
// to <system>/specialisation/<name> while the system itself stays the boot default, with fleet's own
// activation and with nixos-rebuild-ng (--specialisation); a missing one fails the host before
// anything is armed or activated; fleet status compares the live system with the specialisation.
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { labBinDir, startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, writeLabManifest } from './fleet-harness.js';

interface StatusJson {
  hosts: { host: string; verdict: string; live: string; bootDefault: string; wanted: string }[];
}

describe('specialisations (lab)', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  const fleet = (args: string[], env: Record<string, string> = {}) => runFleet(lab, args, { env });
  /** The toplevel of a host, and the store path of its specialisation `name`, as built here. */
  const systems = async (host: string, name: string) => {
    const toplevel = (await lab.toplevels([host]))[host]!;
    const special = realpathSync(`${toplevel}/specialisation/${name}`);
    return { toplevel, special };
  };

  beforeAll(async () => {
    lab = await startLab({
      hosts: [
        { name: 'desk', state: 'installed', specialisations: ['gaming', 'quiet'] },
        { name: 'lab', state: 'installed', specialisations: ['gaming'] },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-specialisation-'));
    manifest = writeLabManifest(lab, dir, [{ name: 'desk', extra: { specialisation: 'quiet' } }, { name: 'lab' }], { rebuildFlavour: 'bash' });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('plans the specialisation for switch and test, and the system itself for boot', async () => {
    const plan = await fleet(['plan', '-f', manifest, 'desk']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/specialisation quiet goes live \(<toplevel>\/specialisation\/quiet, found on the target before anything is armed or activated; <toplevel> stays the boot default\)/);
    expect(plan.stdout).toMatch(/find specialisation quiet: \$ ssh .* 'sh -c <specialisation script> fleet-specialisation' <toplevel> quiet\n/);
    expect(plan.stdout).toMatch(/arm watchdog, activate switch specialisation quiet \(as nixos-rebuild does\)/);

    const boot = await fleet(['plan', '-f', manifest, 'desk', '--boot']);
    expect(boot.stdout).toMatch(/specialisation quiet is not activated in boot mode: the boot default is <toplevel> itself/);
    expect(boot.stdout).not.toMatch(/find specialisation/);
  });

  it('switches to the specialisation (fleet\'s own activation): live is the specialisation, the system boots by default', async () => {
    lab.setRevision(2);
    const { toplevel, special } = await systems('desk', 'quiet');
    const report = join(dir, 'switch.json');
    const run = await fleet(['apply', '-f', manifest, 'desk', '--report', report]);
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(lab.currentSystem('desk')).toBe(special);
    expect(lab.bootDefault('desk')).toBe(toplevel);
    expect(lab.generations('desk').find((g) => g.current)?.storePath).toBe(toplevel);
    expect(lab.activations('desk').at(-1)).toMatchObject({ action: 'switch', storePath: special, specialisation: 'quiet', exitCode: 0 });
    const host = hostOf(readReport(report), 'desk');
    expect(host.outcome).toBe('changed');
    expect(host.steps.find((s) => s.step === 'verify')?.detail).toMatch(/reachable over a fresh connection, running the built system; watchdog confirmed/);

    // Again: the host already runs it (the specialisation live, the system as boot default).
    const again = await fleet(['apply', '-f', manifest, 'desk', '--report', report]);
    expect(again.code, again.stdout).toBe(0);
    const unchanged = hostOf(readReport(report), 'desk');
    expect(unchanged.outcome).toBe('unchanged');
    expect(unchanged.steps.find((s) => s.step === 'deploy')).toMatchObject({ status: 'skipped', detail: `already runs ${special}` });
  });

  it('fleet status compares the live system with the specialisation', async () => {
    const { toplevel, special } = await systems('desk', 'quiet');
    const up = await fleet(['status', '-f', manifest, 'desk', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect((JSON.parse(up.stdout) as StatusJson).hosts[0]).toMatchObject({ verdict: 'up-to-date', live: special, bootDefault: toplevel, wanted: toplevel });

    // Without its specialisation in the manifest, the wanted system is only its boot default.
    const plain = writeLabManifest(lab, join(dir, 'plain'), [{ name: 'desk' }], { rebuildFlavour: 'bash' });
    const out = await fleet(['status', '-f', plain, 'desk', '--json']);
    expect(out.code).toBe(3);
    expect((JSON.parse(out.stdout) as StatusJson).hosts[0]).toMatchObject({ verdict: 'pending-reboot', live: special, bootDefault: toplevel });
  });

  it('fails a host whose system has no such specialisation before anything is armed or activated', async () => {
    lab.setRevision(3);
    const before = { activations: lab.activations('lab').length, generations: lab.generations('lab').length, live: lab.currentSystem('lab') };
    const { toplevel } = await systems('lab', 'gaming');
    const report = join(dir, 'missing.json');
    const run = await fleet(['apply', '-f', manifest, 'lab', '--specialisation', 'office', '--report', report]);
    expect(run.code).toBe(1);
    const host = hostOf(readReport(report), 'lab');
    expect(host).toMatchObject({
      outcome: 'failed',
      step: 'deploy',
      reason: `specialisation office not found in ${toplevel} (no specialisation/office/bin/switch-to-configuration); nothing was activated`,
    });
    expect(run.stdout).toMatch(/hint: the built system has: gaming/);
    expect(lab.activations('lab').length).toBe(before.activations);
    expect(lab.generations('lab').length).toBe(before.generations);
    expect(lab.currentSystem('lab')).toBe(before.live);
    // No watchdog was armed (none ran, none is waiting).
    const armed = await lab.exec('lab', ['sh', '-c', 'ls /run/fleet/ 2>/dev/null | grep -c "^watchdog-" || true']);
    expect(armed.stdout.trim()).toBe('0');

    const bad = await fleet(['plan', '-f', manifest, '--specialisation', '../etc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^fleet: --specialisation must be a specialisation name/);
  });

  it('the bash nixos-rebuild stand-in refuses --specialisation with boot before anything, as the real one', () => {
    const before = lab.generations('lab').length;
    const run = spawnSync(join(labBinDir, 'nixos-rebuild'), ['boot', '--specialisation', 'gaming', '--flake', `${lab.flakeDir}#lab`, '--target-host', `root@${lab.host('lab').address}`, '--fast'], {
      encoding: 'utf8',
      env: { ...process.env, ...lab.env, FLEET_LAB_REBUILD_FLAVOUR: 'bash' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('error: ‘--specialisation’ can only be used with ‘switch’ and ‘test’\n');
    expect(lab.generations('lab').length).toBe(before);
  });

  it('passes --specialisation to nixos-rebuild-ng, which activates it (test mode: the boot default stays)', async () => {
    lab.env.FLEET_LAB_REBUILD_FLAVOUR = 'ng';
    try {
      const bootBefore = lab.bootDefault('lab');
      const { toplevel, special } = await systems('lab', 'gaming');
      const run = await fleet(['apply', '-f', manifest, 'lab', '--rebuild-flavour', 'ng', '--test', '--specialisation', 'gaming']);
      expect(run.stderr).toBe('');
      expect(run.code, run.stdout).toBe(0);
      const calls = lab.toolLog().filter((t) => t.tool === 'nixos-rebuild' && t.argv.includes('--store-path'));
      expect(calls.at(-1)?.argv).toEqual(expect.arrayContaining(['test', '--store-path', toplevel, '--specialisation', 'gaming']));
      expect(lab.currentSystem('lab')).toBe(special);
      expect(lab.bootDefault('lab')).toBe(bootBefore);
      expect(lab.activations('lab').at(-1)).toMatchObject({ action: 'test', storePath: special, specialisation: 'gaming', exitCode: 0 });
    } finally {
      delete lab.env.FLEET_LAB_REBUILD_FLAVOUR;
    }
  });
});
