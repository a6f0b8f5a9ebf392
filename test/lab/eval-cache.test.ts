// The evaluation cache against real lab hosts and the real nix: a second apply of an unchanged flake
// evaluates nothing (fleet's report and a log of every nix call say so), a changed flake is evaluated
// again, a system garbage-collected from the local store is re-evaluated, --no-eval-cache evaluates
// everything, and fleet status reads the cache too.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { runFleet, writeLabManifest } from './fleet-harness.js';

interface Report {
  evaluations: number;
  evaluatedHosts: number;
  cachedHosts: number;
  evalCache?: { used: boolean; reason?: string };
  hosts: { host: string; outcome: string; storePath: string | null }[];
}

describe('the evaluation cache in the lab', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  let nixLog: string;
  let env: Record<string, string>;
  // Names and a revision of this file only: the systems it garbage-collects are no other lab's.
  const hosts = ['evc-a', 'evc-b', 'evc-c'];
  let revision = 7000 + Math.floor(Math.random() * 100_000);

  beforeAll(async () => {
    lab = await startLab({ hosts: hosts.map((name) => ({ name, state: 'installed' as const })), revision });
    dir = mkdtempSync(join(tmpdir(), 'fleet-evc-'));
    manifest = writeLabManifest(lab, dir, hosts.map((name) => ({ name })));
    // Every nix call fleet makes, logged: `nix` on PATH is a wrapper of the real one.
    const bin = join(dir, 'bin');
    nixLog = join(dir, 'nix-calls.log');
    const real = spawnSync('sh', ['-c', 'command -v nix'], { encoding: 'utf8' }).stdout.trim();
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'nix'), `#!/bin/sh\nprintf '%s\\n' "$1 $2" >> '${nixLog}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, 'nix'), 0o755);
    writeFileSync(nixLog, '');
    env = { PATH: `${bin}:${lab.env.PATH}` };
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  /** Runs fleet with the nix log; returns the run and the nix subcommands it called. */
  async function fleet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; nix: string[] }> {
    writeFileSync(nixLog, '');
    const run = await runFleet(lab, [...args, '-f', manifest], { env });
    return { ...run, nix: readFileSync(nixLog, 'utf8').split('\n').filter(Boolean) };
  }

  async function apply(...flags: string[]): Promise<{ report: Report; nix: string[]; stdout: string }> {
    const run = await fleet(['apply', '--json', ...flags]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return { report: JSON.parse(run.stdout) as Report, nix: run.nix, stdout: run.stdout };
  }

  const evals = (nix: string[]) => nix.filter((call) => call.startsWith('eval ')).length;

  it('evaluates every host once, then a second apply of the unchanged flake evaluates none: each comes from the cache', async () => {
    const first = await apply();
    expect(first.report.evaluatedHosts).toBe(3);
    expect(first.report.cachedHosts).toBe(0);
    expect(first.report.evalCache).toEqual({ used: true });
    expect(evals(first.nix)).toBeGreaterThan(0);
    expect(first.report.hosts.map((h) => h.outcome)).toEqual(['changed', 'changed', 'changed']);

    const second = await apply();
    expect(second.report.evaluatedHosts).toBe(0);
    expect(second.report.cachedHosts).toBe(3);
    expect(second.report.evaluations).toBe(0);
    expect(evals(second.nix), second.nix.join('\n')).toBe(0);
    expect(second.nix.filter((call) => call.startsWith('build '))).toEqual([]);
    expect(second.report.hosts.map((h) => [h.outcome, h.storePath])).toEqual(first.report.hosts.map((h) => ['unchanged', h.storePath]));
  }, 240_000);

  it('fleet plan names the hosts the cache answers, and fleet status reads the cache: no evaluation', async () => {
    const plan = await fleet(['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^ {2}evaluation cache: 3 hosts not evaluated \(their systems are in the store\): evc-a, evc-b, evc-c$/m);
    expect(plan.stdout).toContain('build  0 chunks');
    expect(evals(plan.nix)).toBe(0);

    const status = await fleet(['status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const statuses = (JSON.parse(status.stdout) as { hosts: { host: string; verdict: string; wanted: string }[] }).hosts;
    expect(statuses.map((s) => s.verdict)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    expect(evals(status.nix), status.nix.join('\n')).toBe(0);

    // Plain output says it too.
    const plain = await fleet(['build']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^\[build\] 0 hosts to evaluate, 3 hosts from the evaluation cache \(evc-a, evc-b, evc-c\)$/m);
  }, 240_000);

  it('--no-eval-cache evaluates every host', async () => {
    const run = await apply('--no-eval-cache');
    expect(run.report.evaluatedHosts).toBe(3);
    expect(run.report.cachedHosts).toBe(0);
    expect(run.report.evalCache).toEqual({ used: false, reason: '--no-eval-cache' });
    expect(evals(run.nix)).toBeGreaterThan(0);
  }, 240_000);

  it('a system garbage-collected from the local store is evaluated (and built) again; the others still come from the cache', async () => {
    const before = await apply();
    expect(before.report.cachedHosts).toBe(3);
    const gone = before.report.hosts.find((h) => h.host === 'evc-b')!.storePath!;
    const deleted = spawnSync('nix-store', ['--delete', '--ignore-liveness', gone], { encoding: 'utf8', env: { ...process.env, NIX_CONFIG: lab.env.NIX_CONFIG } });
    expect(deleted.status, deleted.stderr).toBe(0);
    expect(spawnSync('nix-store', ['--check-validity', gone]).status).not.toBe(0);

    const after = await apply();
    expect(after.report.evaluatedHosts).toBe(1);
    expect(after.report.cachedHosts).toBe(2);
    expect(after.report.hosts.map((h) => [h.host, h.outcome, h.storePath])).toEqual(before.report.hosts.map((h) => [h.host, 'unchanged', h.storePath]));
    expect(spawnSync('nix-store', ['--check-validity', gone]).status).toBe(0);
  }, 240_000);

  it('a corrupt or foreign entry is a miss, never an error', async () => {
    const cacheDir = join(lab.env.XDG_CACHE_HOME!, 'fleet', 'eval');
    const entries = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of entries) writeFileSync(join(cacheDir, entry), '{"format":1,"host":');
    const run = await apply();
    expect(run.report.evaluatedHosts).toBe(3);
    expect(run.report.cachedHosts).toBe(0);
    // …and rewritten whole: the next run is served again.
    const next = await apply();
    expect(next.report.cachedHosts).toBe(3);
  }, 240_000);

  it('a changed flake is evaluated again, every host', async () => {
    revision += 1;
    lab.setRevision(revision);
    const run = await apply();
    expect(run.report.evaluatedHosts).toBe(3);
    expect(run.report.cachedHosts).toBe(0);
    expect(run.report.hosts.map((h) => h.outcome)).toEqual(['changed', 'changed', 'changed']);
    for (const h of run.report.hosts) expect(h.storePath).toContain(`lab-r${revision}`);
  }, 240_000);
});
