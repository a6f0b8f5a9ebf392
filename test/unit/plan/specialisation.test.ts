// Specialisations in the plan: switch and test activate <toplevel>/specialisation/<name> (found on
// the target first), boot and dry-activate the system itself; ng gets --specialisation, fleet's own
// activation the name as its last word; the scripts run for real against a fake system directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argvForDisplay, buildPlan, resolveArgv, SPECIALISATION_MISSING, SPECIALISATION_SCRIPT, ACTIVATE_SCRIPT, type HostPlan, type PlannedCommand } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from './inventory-fixture.js';

/** The remote shell's words of an ssh argv (after the destination), as sh splits them. */
function remoteWords(command: PlannedCommand, values: Record<string, string> = {}): string[] {
  const argv = resolveArgv(command.argv, { toplevel: '/nix/store/aaa-system', deployId: 'id1', ...values });
  const line = argv.slice(argv.indexOf('--') + 2).join(' ');
  return execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

function deployOf(plan: ReturnType<typeof buildPlan>, name: string): HostPlan['deploy'] {
  return plan.hosts.find((h) => h.name === name)!.deploy;
}

describe('specialisations in the plan', () => {
  const fleet = inventory([host('desk', { specialisation: 'quiet' }), host('web')]);

  it('bash flavour: found on the target, then the armed activation gets the name as its last word', () => {
    const plan = buildPlan(fleet, planOptions({ rebuildFlavour: 'bash' }));
    const deploy = deployOf(plan, 'desk');
    expect(deploy.specialisation?.name).toBe('quiet');
    expect(remoteWords(deploy.specialisation!.find).slice(-3)).toEqual(['fleet-specialisation', '/nix/store/aaa-system', 'quiet']);
    if (deploy.activation.kind !== 'watched' || deploy.activation.arm !== 'in-activate') throw new Error('armed in the activation');
    expect(remoteWords(deploy.activation.activate).slice(-4)).toEqual(['90', '/nix/store/aaa-system', 'switch', 'quiet']);
    expect(plan.hosts.find((h) => h.name === 'desk')!.specialisation).toBe('quiet');
    // A host without one: nothing of the kind.
    expect(deployOf(plan, 'web').specialisation).toBeUndefined();
    expect(remoteWords(deployOf(plan, 'web').activation.activate).at(-1)).toBe('switch');
  });

  it('ng flavour: nixos-rebuild gets --specialisation NAME with --store-path', () => {
    const deploy = deployOf(buildPlan(fleet, planOptions({ rebuildFlavour: 'ng' })), 'desk');
    expect(argvForDisplay(deploy.activation.activate.argv).slice(0, 6)).toEqual(['nixos-rebuild', 'switch', '--store-path', '<toplevel>', '--specialisation', 'quiet']);
  });

  it('--specialisation overrides every selected host; boot and dry-activate activate the system itself, and say so', () => {
    const over = buildPlan(fleet, planOptions({ rebuildFlavour: 'ng', specialisationOverride: 'gaming', modeOverride: 'test' }));
    expect(over.hosts.map((h) => h.specialisation)).toEqual(['gaming', 'gaming']);
    for (const mode of ['boot', 'dry-activate'] as const) {
      const plan = buildPlan(fleet, planOptions({ rebuildFlavour: 'ng', modeOverride: mode }));
      const deploy = deployOf(plan, 'desk');
      expect(deploy.specialisation, mode).toBeUndefined();
      expect(plan.hosts[0]!.specialisation, mode).toBeUndefined();
      expect(argvForDisplay(deploy.activation.activate.argv), mode).not.toContain('--specialisation');
    }
    expect(deployOf(buildPlan(fleet, planOptions({ modeOverride: 'boot' })), 'desk').guard).toMatch(/specialisation quiet is not activated in boot mode: the boot default is <toplevel> itself/);
  });
});

describe('the specialisation scripts, run', () => {
  // A fake system: <top>/specialisation/quiet → a sibling system with its own switch-to-configuration.
  const dir = mkdtempSync(join(tmpdir(), 'fleet-spec-'));
  const top = join(dir, 'system');
  const quiet = join(dir, 'system-quiet');
  for (const system of [top, quiet]) {
    mkdirSync(join(system, 'bin'), { recursive: true });
    writeFileSync(join(system, 'bin', 'switch-to-configuration'), `#!/bin/sh\necho "ran ${system} $1"\n`);
    chmodSync(join(system, 'bin', 'switch-to-configuration'), 0o755);
  }
  mkdirSync(join(top, 'specialisation'));
  symlinkSync(quiet, join(top, 'specialisation', 'quiet'));

  it('SPECIALISATION_SCRIPT answers the store path, or missing and the names there are', () => {
    const found = execFileSync('sh', ['-c', SPECIALISATION_SCRIPT, 'fleet-specialisation', top, 'quiet'], { encoding: 'utf8' });
    expect(found).toBe(`specialisation=${realpathSync(quiet)}\n`);
    const missing = execFileSync('sh', ['-c', SPECIALISATION_SCRIPT, 'fleet-specialisation', top, 'office'], { encoding: 'utf8' });
    expect(missing).toBe('missing\navailable=quiet\n');
    const none = execFileSync('sh', ['-c', SPECIALISATION_SCRIPT, 'fleet-specialisation', quiet, 'office'], { encoding: 'utf8' });
    expect(none).toBe('missing\navailable=\n');
  });

  it('ACTIVATE_SCRIPT runs the specialisation\'s switch-to-configuration, and refuses a missing one before anything', () => {
    // test mode: no profile is set (nix-env is not needed), switch-to-configuration runs directly here.
    const run = spawnSync('sh', ['-c', ACTIVATE_SCRIPT, 'fleet-activate', top, 'test', 'quiet'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.stdout).toBe(`ran ${quiet} test\n`);
    const plain = spawnSync('sh', ['-c', ACTIVATE_SCRIPT, 'fleet-activate', top, 'test'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(plain.stdout).toBe(`ran ${top} test\n`);
    const missing = spawnSync('/bin/sh', ['-c', ACTIVATE_SCRIPT, 'fleet-activate', top, 'switch', 'office'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    // Before nix-env (not on that PATH): the refusal comes first.
    expect(missing.status).toBe(SPECIALISATION_MISSING);
    expect(missing.stderr).toBe('specialisation not found: office\n');
  });
});
