// fleet diff, apply --diff and apply --confirm against real lab hosts: the built closure copied,
// both closures listed on the host by its own nix-store, the packages compared; the one question
// at a real terminal answered no (nothing activated) and yes (deployed).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { runFleet, runFleetInTerminal, writeLabManifest } from './fleet-harness.js';

interface DiffHost {
  host: string;
  outcome: string;
  step: string;
  diff: null | {
    kind: string;
    changed?: { name: string; from: string[]; to: string[]; sizeDelta: number }[];
    added?: { name: string; to: string[] }[];
    removed?: { name: string; from: string[] }[];
    closure?: { fromBytes: number; toBytes: number };
  };
}

describe('fleet diff and apply --confirm in the lab', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  const hosts = ['alpha', 'beta', 'gamma', 'delta'];

  beforeAll(async () => {
    lab = await startLab({
      hosts: hosts.map((name) => ({ name, state: 'installed' as const, packages: { 'lab-tool': { version: '1.0', kib: 4 } } })),
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-diff-'));
    manifest = writeLabManifest(lab, dir, hosts.map((name) => ({ name })));
    // Every host on the flake's system first: from here on a host changes only when its packages do.
    const first = await runFleet(lab, ['apply', '-f', manifest]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('names the changed package with its old and new version and the size change; an unchanged host has "no changes"; nothing is activated', async () => {
    lab.setPackages('alpha', { 'lab-tool': { version: '1.1', kib: 12 }, 'lab-extra': { version: '2.0', kib: 3 } });
    const before = { alpha: lab.activations('alpha').length, beta: lab.activations('beta').length };
    const running = { alpha: lab.currentSystem('alpha'), beta: lab.currentSystem('beta') };
    const wanted = await lab.toplevels(['alpha']);
    const summary = join(dir, 'step-summary.md');

    const run = await runFleet(lab, ['diff', '-f', manifest, 'alpha', 'beta'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^alpha: \/nix\/store\/…-nixos-system-alpha-\S+ → \/nix\/store\/…-nixos-system-alpha-\S+$/m);
    expect(out).toMatch(/^ {2}changed +lab-tool +1\.0 → 1\.1 +\+8\.0 KiB$/m);
    expect(out).toMatch(/^ {2}added +lab-extra +2\.0 +\+\d+\.\d KiB$/m);
    expect(out).toMatch(/^ {2}closure +\d+ → \d+ paths \(\d+ added, \d+ removed\), [\d.]+ KiB → [\d.]+ KiB \(\+[\d.]+ KiB\)$/m);
    expect(out).toMatch(/^beta: no changes \(runs \/nix\/store\/…-nixos-system-beta-\S+\)$/m);

    // The copy apply would make is made; nothing else changes.
    expect(lab.storePaths('alpha')).toContain(wanted.alpha);
    expect(lab.activations('alpha')).toHaveLength(before.alpha);
    expect(lab.activations('beta')).toHaveLength(before.beta);
    expect(lab.currentSystem('alpha')).toBe(running.alpha);
    expect(lab.currentSystem('beta')).toBe(running.beta);

    const md = readFileSync(summary, 'utf8');
    expect(md).toMatch(/^### fleet diff: 2 hosts/m);
    expect(md).toContain('<details><summary>alpha: 1 package changed, 1 added; closure +');
    expect(md).toContain('<details><summary>beta: no changes</summary>');

    const json = await runFleet(lab, ['diff', '-f', manifest, 'alpha', 'beta', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { hosts: DiffHost[] };
    const alpha = report.hosts.find((h) => h.host === 'alpha')!;
    expect(alpha).toMatchObject({ outcome: 'unchanged', step: 'diff' });
    expect(alpha.diff?.changed).toEqual([{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8192 }]);
    expect(alpha.diff?.added).toEqual([expect.objectContaining({ name: 'lab-extra', to: ['2.0'] })]);
    expect(alpha.diff!.closure!.toBytes).toBeGreaterThan(alpha.diff!.closure!.fromBytes);
    expect(report.hosts.find((h) => h.host === 'beta')?.diff).toEqual({ kind: 'same', system: running.beta });
  }, 180_000);

  it('apply --diff prints the host\'s diff before it activates', async () => {
    const run = await runFleet(lab, ['apply', '-f', manifest, 'alpha', '--diff']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const diffAt = lines.findIndex((l) => /^\[alpha\] diff: {3}changed +lab-tool +1\.0 → 1\.1/.test(l));
    const activateAt = lines.findIndex((l) => /^\[alpha\] deploy: activating the configuration/.test(l));
    expect(diffAt, run.stdout).toBeGreaterThan(-1);
    expect(activateAt, run.stdout).toBeGreaterThan(diffAt);
    expect(lab.currentSystem('alpha')).toBe((await lab.toplevels(['alpha'])).alpha);
  }, 180_000);

  it('--confirm without a terminal is a usage error and touches no host', async () => {
    lab.setPackages('gamma', { 'lab-tool': { version: '1.1', kib: 4 } });
    const before = lab.activations('gamma').length;
    const run = await runFleet(lab, ['apply', '-f', manifest, 'gamma', '--confirm']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^fleet: --confirm asks before activating, and stdin is not a terminal/m);
    expect(lab.activations('gamma')).toHaveLength(before);
  }, 60_000);

  it('--confirm at a terminal: every diff, one question; "n" activates nothing, "y" deploys', async () => {
    lab.setPackages('gamma', { 'lab-tool': { version: '1.1', kib: 4 } });
    lab.setPackages('delta', { 'lab-tool': { version: '1.2', kib: 8 } });
    const wanted = await lab.toplevels(['gamma', 'delta']);
    const before = { gamma: lab.activations('gamma').length, delta: lab.activations('delta').length };
    const running = { gamma: lab.currentSystem('gamma'), delta: lab.currentSystem('delta') };
    const question = /apply to 2 hosts\? \[y\/N\] $/;

    const no = await runFleetInTerminal(lab, ['apply', '-f', manifest, 'gamma', 'delta', 'beta', '--confirm'], { when: question, keys: 'n\r' });
    expect(no.code, no.screen).toBe(1);
    expect(no.screen).toMatch(/^gamma: \/nix\/store\/…-nixos-system-gamma-\S+ → /m);
    expect(no.screen).toMatch(/^ {2}changed +lab-tool +1\.0 → 1\.1/m);
    expect(no.screen).toMatch(/^ {2}changed +lab-tool +1\.0 → 1\.2 +\+4\.0 KiB/m);
    // beta has no changes: shown, and not counted in the question.
    expect(no.screen).toMatch(/^beta: no changes/m);
    expect(no.screen).toContain('what fleet apply changes on 2 of 3 hosts:');
    expect(no.screen).toContain('not confirmed: nothing is activated');
    // The UPLOADED column: the diff copied the closure before the question.
    expect(no.screen).toMatch(/^gamma +skipped +diff +\S+ +[\d.]+ \S+ \(\d+ paths?\) +not confirmed at the prompt; nothing was activated$/m);
    expect(lab.activations('gamma')).toHaveLength(before.gamma);
    expect(lab.activations('delta')).toHaveLength(before.delta);
    expect(lab.currentSystem('gamma')).toBe(running.gamma);
    expect(lab.currentSystem('delta')).toBe(running.delta);

    const yes = await runFleetInTerminal(lab, ['apply', '-f', manifest, 'gamma', 'delta', '--confirm'], { when: /apply to 2 hosts\? \[y\/N\] $/, keys: 'y\r' });
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).toContain('confirmed: activating 2 hosts');
    expect(lab.activations('gamma')).toHaveLength(before.gamma + 1);
    expect(lab.activations('delta')).toHaveLength(before.delta + 1);
    expect(lab.currentSystem('gamma')).toBe(wanted.gamma);
    expect(lab.currentSystem('delta')).toBe(wanted.delta);
  }, 240_000);
});
