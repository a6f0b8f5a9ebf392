// How closures travel, against real lab hosts: built systems stay rooted while a rollout pauses (a
// garbage collection on this machine cannot delete what a later wave deploys), --keep-result keeps
// them, `buildHost: target` builds on the target itself, and the report says what each copy sent.
import { existsSync, mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, waitFor, writeLabManifest } from './fleet-harness.js';

const HOSTS = ['c1', 'c2', 'c3'];

describe('closures in the lab', () => {
  let lab: Lab;
  let dir: string;
  // Revisions of this file's own (other labs on this machine share its store): no other run
  // builds, roots or deletes these systems.
  let revision = 21_000_000 + Math.floor(Math.random() * 1_000_000);

  beforeAll(async () => {
    lab = await startLab({ hosts: HOSTS.map((name) => ({ name, state: 'installed' as const })) });
    dir = mkdtempSync(join(tmpdir(), 'fleet-closures-'));
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('a garbage collection during a rollout pause deletes nothing a later wave deploys; the run drops its roots at the end', async () => {
    const path = writeLabManifest(lab, join(dir, 'gc'), HOSTS.map((name) => ({ name })), { rebuildFlavour: 'bash', rollout: { canary: ['c1'], pause: 6 } });
    lab.setRevision(++revision);
    lab.setPackages('c3', { 'lab-tool': { version: `${revision}`, kib: 64 } });
    const wanted = await lab.toplevels(HOSTS);
    // lab.toplevels built them; nothing roots them yet: the run's own build must.
    const report = join(dir, 'gc', 'report.json');
    let pausing = false;
    const running = runFleet(lab, ['apply', '-f', path, '--report', report], { onStdout: (text) => (pausing ||= text.includes('[rollout] pausing 6s before wave 2/2')) });
    await waitFor('the pause after the canary', () => pausing, 120_000);
    // The collector on this machine, pointed at exactly what wave 2 is about to copy (a whole-store
    // `nix-store --gc` would also take what the other labs on this machine build unrooted).
    const gc = spawnSync('nix-store', ['--delete', wanted.c2!, wanted.c3!], { encoding: 'utf8' });
    expect(gc.status, gc.stderr).not.toBe(0);
    expect(gc.stderr).toMatch(/still alive/);
    const results = join(dirname(path), 'results');
    const run = await running;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const h of HOSTS) expect(lab.currentSystem(h), h).toBe(wanted[h]);
    expect(readReport(report).hosts.map((h) => h.outcome)).toEqual(['changed', 'changed', 'changed']);
    // The roots went with the run: now the collector may take the systems (c3's own package too).
    expect(existsSync(results)).toBe(false);
    const after = spawnSync('nix-store', ['--delete', wanted.c3!], { encoding: 'utf8' });
    expect(after.status, after.stderr).toBe(0);
    expect(existsSync(wanted.c3!)).toBe(false);
  }, 240_000);

  it('--keep-result keeps a root of each built system beside the manifest', async () => {
    const path = writeLabManifest(lab, join(dir, 'keep'), [{ name: 'c1' }], { rebuildFlavour: 'bash' });
    lab.setRevision(++revision);
    const run = await runFleet(lab, ['apply', '-f', path, '--keep-result']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const root = join(dir, 'keep', '.fleet', 'gcroots', 'c1');
    expect(readlinkSync(root)).toBe(lab.currentSystem('c1'));
    const gc = spawnSync('nix-store', ['--delete', lab.currentSystem('c1')!], { encoding: 'utf8' });
    expect(gc.stderr).toMatch(/still alive/);
    expect(readdirSync(join(dir, 'keep', '.fleet', 'gcroots'))).toEqual(['c1']);
  }, 240_000);

  it('buildHost: target: the target builds its system (nothing built or uploaded here); another host still gets its closure copied', async () => {
    const path = writeLabManifest(lab, join(dir, 'target'), [{ name: 'c1', extra: { buildHost: 'target' } }, { name: 'c2' }], { rebuildFlavour: 'bash' });
    lab.setRevision(++revision);
    const plan = await runFleet(lab, ['plan', '-f', path]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/nix --extra-experimental-features 'nix-command flakes' copy --derivation --to ssh:\/\/root@\S+ <derivations>/);
    expect(plan.stdout).toMatch(/c1: \$ ssh .* -- root@\S+ 'nix-store --realise' <derivations>/);
    const report = join(dir, 'target', 'report.json');
    const run = await runFleet(lab, ['apply', '-f', path, '--report', report]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const json = readReport(report);
    const c1 = hostOf(json, 'c1');
    const c2 = hostOf(json, 'c2');
    expect([c1.outcome, c2.outcome]).toEqual(['changed', 'changed']);
    expect(lab.currentSystem('c1')).toBe(c1.storePath);
    // Built there, never here: this machine's store has the derivation, not the system.
    expect(existsSync(c1.storePath!)).toBe(false);
    expect(lab.storePaths('c1')).toContain(c1.storePath);
    expect(c1.uploaded).toBeNull();
    // c2 was built here and copied: its upload counts the paths nix copied and their NAR size.
    expect(c2.uploaded?.paths).toBeGreaterThan(0);
    expect(c2.uploaded?.bytes).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/UPLOADED/);
  }, 240_000);
});
