// Rollouts against real lab hosts: waves run in order, each gated on the one before; a canary that
// fails its health check stops the rollout; onFailure: rollback returns the failing wave to the
// systems it ran before; Ctrl-C during the pause between waves stops cleanly.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, waitFor, writeLabManifest, type LabManifestHost, type Report } from './fleet-harness.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8'];

/** A health check that fails: the marker never exists on the target. */
const FAILING_HTTP = { name: 'http', command: ['test', '-e', '/nonexistent/fleet-rollout-marker'], timeout: 5 };

describe('rollouts in the lab', () => {
  let lab: Lab;
  let dir: string;
  let revision = 1;

  beforeAll(async () => {
    lab = await startLab({ hosts: HOSTS.map((name) => ({ name, state: 'installed' as const })) });
    dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-'));
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  /** A manifest over all eight hosts with this rollout; `extra` adds fields to some hosts. */
  const manifest = (name: string, rollout: Record<string, unknown>, extra: Record<string, Record<string, unknown>> = {}) =>
    writeLabManifest(
      lab,
      join(dir, name),
      HOSTS.map((h): LabManifestHost => ({ name: h, ...(extra[h] ? { extra: extra[h] } : {}) })),
      { rebuildFlavour: 'bash', rollout },
    );

  const state = () => Object.fromEntries(HOSTS.map((h) => [h, { live: lab.currentSystem(h), boot: lab.bootDefault(h), activations: lab.activations(h).length }]));

  const outcomes = (report: Report) => Object.fromEntries(report.hosts.map((h) => [h.host, h.outcome]));

  it('fleet plan shows the waves; waves of 25% over 8 hosts run 2 hosts at a time, in order', async () => {
    const path = manifest('waves', { waves: '25%' });
    const plan = await runFleet(lab, ['plan', '-f', path]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^rollout {2}4 waves: then waves of 25% \(2 hosts\); no pause between waves$/m);
    for (const [i, pair] of [['h1', 'h2'], ['h3', 'h4'], ['h5', 'h6'], ['h7', 'h8']].entries()) {
      expect(plan.stdout).toContain(`  wave ${i + 1}/4: ${pair.join(', ')}\n`);
    }
    const planJson = JSON.parse((await runFleet(lab, ['plan', '-f', path, '--json'])).stdout) as { rollout: { waves: { hosts: string[] }[] } };
    expect(planJson.rollout.waves.map((w) => w.hosts)).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5', 'h6'], ['h7', 'h8']]);

    lab.setRevision(++revision);
    const wanted = await lab.toplevels(HOSTS);
    const report = join(dir, 'waves', 'report.json');
    const run = await runFleet(lab, ['apply', '-f', path, '--report', report]);
    expect(run.code, run.stdout).toBe(0);
    const json = readReport(report);
    expect(outcomes(json)).toEqual(Object.fromEntries(HOSTS.map((h) => [h, 'changed'])));
    for (const h of HOSTS) expect(lab.currentSystem(h), h).toBe(wanted[h]);

    // Each wave starts only after every host of the one before has ended: in the report's times
    // and in the order of the output lines.
    const lines = run.stdout.split('\n');
    const waves = [['h1', 'h2'], ['h3', 'h4'], ['h5', 'h6'], ['h7', 'h8']];
    for (let k = 1; k < waves.length; k++) {
      const previousEnd = Math.max(...waves[k - 1]!.map((h) => Date.parse(hostOf(json, h).finishedAt)));
      const start = Math.min(...waves[k]!.map((h) => Date.parse(hostOf(json, h).startedAt)));
      expect(start, `wave ${k + 1}`).toBeGreaterThanOrEqual(previousEnd);
      const lastOfPrevious = Math.max(...waves[k - 1]!.map((h) => lines.reduce((last, l, i) => (l.startsWith(`[${h}] `) ? i : last), -1)));
      const firstOfWave = Math.min(...waves[k]!.map((h) => lines.findIndex((l) => l.startsWith(`[${h}] `))));
      const started = lines.findIndex((l) => l === `[rollout] wave ${k + 1}/4: ${waves[k]!.join(', ')}: starting`);
      expect(started, `wave ${k + 1} announced`).toBeGreaterThan(lastOfPrevious);
      expect(firstOfWave, `wave ${k + 1}`).toBeGreaterThan(started);
    }
    // On the hosts too: every activation of a wave comes after those of the wave before.
    const activated = (h: string) => Date.parse(lab.activations(h).at(-1)!.time);
    for (let k = 1; k < waves.length; k++) {
      expect(Math.min(...waves[k]!.map(activated))).toBeGreaterThanOrEqual(Math.max(...waves[k - 1]!.map(activated)));
    }
  }, 240_000);

  it('a canary that fails its health check stops the rollout: later hosts are not activated, they end skipped with the reason, exit 1', async () => {
    const path = manifest('canary', { canary: ['h1'], waves: '50%', pause: 1 }, { h1: { healthChecks: [FAILING_HTTP] } });
    const before = state();
    lab.setRevision(++revision);
    const wanted = await lab.toplevels(['h1']);
    const report = join(dir, 'canary', 'report.json');
    const run = await runFleet(lab, ['apply', '-f', path, '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    expect(json.exitCode).toBe(1);
    expect(hostOf(json, 'h1')).toMatchObject({ outcome: 'failed', step: 'verify' });
    expect(hostOf(json, 'h1').reason).toMatch(/^health check "http" failed/);
    // onFailure: stop leaves the canary on its new system (fleet rollback h1 returns it).
    expect(lab.currentSystem('h1')).toBe(wanted.h1);
    for (const h of HOSTS.slice(1)) {
      expect(hostOf(json, h), h).toMatchObject({ outcome: 'skipped', reason: "rollout stopped: canary h1 failed its health check 'http'" });
      expect(lab.activations(h).length, h).toBe(before[h]!.activations);
      expect(lab.currentSystem(h), h).toBe(before[h]!.live);
    }
    expect(run.stdout).toContain("[rollout] rollout stopped: canary h1 failed its health check 'http'");
    expect(run.stdout).not.toMatch(/pausing/);
  }, 240_000);

  it('onFailure: rollback returns the failing wave to its previous systems; those hosts end rolled-back, later waves skipped', async () => {
    const path = manifest('rollback', { canary: 'h1', waves: 3, onFailure: 'rollback' }, { h3: { healthChecks: [FAILING_HTTP] } });
    const before = state();
    lab.setRevision(++revision);
    const wanted = await lab.toplevels(HOSTS);
    const report = join(dir, 'rollback', 'report.json');
    const run = await runFleet(lab, ['apply', '-f', path, '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    const why = "rollout stopped: h3 (wave 2/4) failed its health check 'http'";

    // The canary passed and keeps its new system.
    expect(hostOf(json, 'h1').outcome).toBe('changed');
    expect(lab.currentSystem('h1')).toBe(wanted.h1);
    // Wave 2 (h2, h3, h4) was activated, then switched back to what it ran before the run.
    for (const h of ['h2', 'h3', 'h4']) {
      expect(hostOf(json, h), h).toMatchObject({ outcome: 'rolled-back', step: 'rollback' });
      expect(lab.activations(h).length, h).toBe(before[h]!.activations + 2);
      expect(lab.activations(h).at(-2)?.storePath, h).toBe(wanted[h]);
      expect(lab.currentSystem(h), h).toBe(before[h]!.live);
      expect(lab.bootDefault(h), h).toBe(before[h]!.boot);
      expect(hostOf(json, h).steps.at(-1), h).toMatchObject({ step: 'rollback', status: 'done' });
      // The host's deploy history ends with the verified deploy (h3's failed its health check: none),
      // then the rollback to what it ran before.
      const records = readFileSync(join(lab.host(h).dirs.disk, 'nix', 'var', 'fleet', 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; system: string });
      const expected = [['rollback', before[h]!.live]];
      if (h !== 'h3') expected.unshift(['deploy', wanted[h]!]);
      expect(records.slice(-expected.length).map((r) => [r.action, r.system]), h).toEqual(expected);
    }
    expect(hostOf(json, 'h3').reason).toMatch(/^health check "http" failed \(exit 1\); rolled back to generation \d+$/);
    expect(hostOf(json, 'h2').reason).toMatch(new RegExp(`^deployed, then rolled back to generation \\d+: ${why.replace(/[()]/g, '\\$&')}$`));
    // Waves 3 and 4 never started.
    for (const h of ['h5', 'h6', 'h7', 'h8']) {
      expect(hostOf(json, h), h).toMatchObject({ outcome: 'skipped', reason: why });
      expect(lab.activations(h).length, h).toBe(before[h]!.activations);
    }
    expect(run.stdout).toContain(`[rollout] ${why}; rolling back h2, h3, h4`);
    expect(run.stdout).toMatch(/^\[h2\] rollback: done/m);
  }, 240_000);

  it('evaluates and builds in rollout order, and the canary starts while later waves still evaluate', async () => {
    // A nix that logs when each evaluation ends (this machine's clock, in ms).
    const base = join(dir, 'pipeline');
    mkdirSync(base, { recursive: true });
    const log = join(base, 'evaluations.log');
    const nix = join(base, 'nix');
    writeFileSync(nix, ['#!/bin/sh', 'case " $* " in *" eval "*) ;; *) exec nix "$@" ;; esac', 'nix "$@"', 'rc=$?', `echo "end $(date +%s%3N)" >> ${log}`, 'exit $rc', ''].join('\n'));
    chmodSync(nix, 0o755);
    const hosts = ['h6', 'h7', 'h8'];
    const path = writeLabManifest(lab, base, hosts.map((name) => ({ name })), { rebuildFlavour: 'bash', commands: { nix: [nix] }, rollout: { canary: ['h8'] } });
    // Each evaluation takes measurable time, one at a time, one host each: three in a row.
    lab.setWeight({ shared: 0, perHost: 800 });
    lab.setRevision(++revision);
    const report = join(base, 'report.json');
    let run;
    try {
      run = await runFleet(lab, ['apply', '-f', path, '--eval-limit', '1', '--eval-jobs', '1', '--report', report]);
    } finally {
      lab.setWeight({ shared: 0, perHost: 0 });
    }
    expect(run.code, run.stdout).toBe(0);
    // The canary, last in the manifest, is evaluated and built first.
    expect(run.stdout.split('\n').find((l) => / built toplevel /.test(l))).toMatch(/^\[build\] h8: built toplevel /);
    const ends = readFileSync(log, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1]));
    expect(ends).toHaveLength(3);
    // It took its lock and probed before the last evaluation had ended: no wait for the fleet's build.
    const json = readReport(report);
    expect(Date.parse(hostOf(json, 'h8').steps[0]!.startedAt)).toBeLessThan(Math.max(...ends));
    expect(outcomes(json)).toEqual({ h6: 'changed', h7: 'changed', h8: 'changed' });
    // The second wave started only after the canary ended.
    const canaryEnd = Date.parse(hostOf(json, 'h8').finishedAt);
    for (const h of ['h6', 'h7']) expect(Date.parse(hostOf(json, h).startedAt), h).toBeGreaterThanOrEqual(canaryEnd);
  }, 240_000);

  it('Ctrl-C during the pause between waves stops cleanly: exit 130, the canary done, no later host touched', async () => {
    const path = manifest('interrupt', { canary: ['h1'], pause: 600 });
    const before = state();
    lab.setRevision(++revision);
    const wanted = await lab.toplevels(['h1']);
    const report = join(dir, 'interrupt', 'report.json');
    let pid = 0;
    let pausing = false;
    const running = runFleet(lab, ['apply', '-f', path, '--report', report], {
      onSpawn: (p) => (pid = p),
      onStdout: (text) => (pausing ||= text.includes('[rollout] pausing 600s before wave 2/2')),
    });
    await waitFor('the pause after the canary', () => pausing, 120_000);
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code, run.stdout).toBe(130);
    const json = readReport(report);
    expect(json.interrupted).toBe(true);
    expect(hostOf(json, 'h1').outcome).toBe('changed');
    expect(lab.currentSystem('h1')).toBe(wanted.h1);
    for (const h of HOSTS.slice(1)) {
      expect(hostOf(json, h), h).toMatchObject({ outcome: 'skipped', reason: 'interrupted before it started' });
      expect(lab.activations(h).length, h).toBe(before[h]!.activations);
    }
  }, 240_000);
});
