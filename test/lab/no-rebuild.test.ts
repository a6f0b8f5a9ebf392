// No nixos-rebuild on this machine (a CI runner, a non-NixOS laptop): with rebuildFlavour auto,
// `fleet plan` says fleet activates itself and `fleet apply` does so, against a real lab host; only
// an explicit ng without the tool is refused, by plan and apply alike, before any host is touched.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programIsMissing } from '../../src/exec/index.js';
import { labBinDir, startLab, type Lab } from './lab.js';
import { readReport, runFleet, writeLabManifest } from './fleet-harness.js';

describe('no nixos-rebuild on PATH (lab)', () => {
  let lab: Lab;
  let manifest: string;
  let dir: string;
  /** The lab's PATH without its stand-ins' directory: nothing called nixos-rebuild on it. */
  let path: string;

  beforeAll(async () => {
    lab = await startLab({ hosts: [{ name: 'web', state: 'installed' }] });
    path = (lab.env.PATH ?? '').split(':').filter((d) => d !== labBinDir).join(':');
    dir = mkdtempSync(join(tmpdir(), 'fleet-no-rebuild-'));
    manifest = writeLabManifest(lab, dir, [{ name: 'web' }]);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('has a PATH that really holds no nixos-rebuild', () => {
    expect(programIsMissing('nixos-rebuild', lab.env.PATH)).toBe(false);
    expect(programIsMissing('nixos-rebuild', path)).toBe(true);
  });

  it('plans fleet\'s own activation and says so in one line', async () => {
    const run = await runFleet(lab, ['plan', '-f', manifest], { env: { PATH: path } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const said = run.stdout.split('\n').filter((l) => /nixos-rebuild on PATH/.test(l));
    expect(said).toEqual(['  activation  rebuildFlavour: auto, and no nixos-rebuild on PATH: fleet activates the built systems itself (the target sequence of the bash nixos-rebuild)']);
    expect(run.stdout).toMatch(/flavour: as the bash nixos-rebuild does, run by fleet/);

    const json = await runFleet(lab, ['plan', '-f', manifest, '--json'], { env: { PATH: path } });
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as { rebuildFlavourChoice: string; hosts: { deploy: { flavour: string } }[] };
    expect(plan.rebuildFlavourChoice).toMatch(/^rebuildFlavour: auto, and no nixos-rebuild on PATH/);
    expect(plan.hosts.map((h) => h.deploy.flavour)).toEqual(['bash']);
  });

  it('applies the plan: the host runs the built system, and no nixos-rebuild was ever started', async () => {
    lab.setRevision(2);
    const wanted = (await lab.toplevels(['web'])).web!;
    const report = join(dir, 'report.json');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--report', report], { env: { PATH: path } });
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(lab.currentSystem('web')).toBe(wanted);
    expect(lab.bootDefault('web')).toBe(wanted);
    expect(lab.generations('web').find((g) => g.current)?.storePath).toBe(wanted);
    expect(readReport(report).hosts.map((h) => [h.host, h.outcome])).toEqual([['web', 'changed']]);
    expect(lab.activations('web').at(-1)).toMatchObject({ action: 'switch', storePath: wanted, exitCode: 0 });
    // The stand-ins log every call: none of nixos-rebuild (not even the flavour question).
    expect(lab.toolLog().filter((t) => t.tool === 'nixos-rebuild')).toEqual([]);
  });

  it('refuses an explicit ng without the tool, in plan and apply alike, touching no host', async () => {
    const before = lab.activations('web').length;
    for (const command of ['plan', 'apply']) {
      const run = await runFleet(lab, [command, '-f', manifest, '--rebuild-flavour', 'ng'], { env: { PATH: path } });
      expect(run.code, command).toBe(2);
      expect(run.stderr, command).toBe(
        'fleet: --rebuild-flavour ng, but there is no nixos-rebuild on PATH to activate with\n' +
          'hint: install nixos-rebuild-ng (with --store-path), or set rebuildFlavour: auto or bash: fleet then activates the built systems itself and needs no nixos-rebuild\n',
      );
    }
    expect(lab.activations('web').length).toBe(before);
  });
});
