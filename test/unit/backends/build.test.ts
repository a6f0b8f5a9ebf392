import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBuildStage } from '../../../src/backends/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import { buildPlan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

/**
 * A fake nix. `eval` answers drv/out paths for the hosts named in the --apply function, failing
 * when it names "broken"; `build` creates the output of every derivation except "unbuildable"'s,
 * and answers in reverse order (as Nix 2.8 answers sorted by store path, not by argument).
 */
function fakeNix(store: string, calls: string[][]): Exec {
  return async (request: ExecRequest) => {
    const argv = [...request.argv];
    calls.push(argv);
    if (argv[1] === 'eval') {
      const hosts = [...(argv.at(-1) as string).matchAll(/"([a-z0-9-]+)" = \{/g)].map((m) => m[1] as string);
      if (hosts.includes('broken')) return { exitCode: 1, signal: null, stdout: '', stderr: 'error: attribute missing in broken\n', timedOut: false };
      const json = Object.fromEntries(hosts.map((h) => [h, { toplevel: { drv: `/nix/store/${h}.drv`, out: join(store, `${h}-system`) } }]));
      return { exitCode: 0, signal: null, stdout: JSON.stringify(json), stderr: '', timedOut: false };
    }
    const drvs = argv.filter((a) => a.endsWith('.drv'));
    let ok = true;
    for (const drv of drvs) {
      const name = drv.slice('/nix/store/'.length, -'.drv'.length);
      if (name === 'unbuildable') ok = false;
      else writeFileSync(join(store, `${name}-system`), '');
    }
    return ok
      ? { exitCode: 0, signal: null, stdout: '[]', stderr: '', timedOut: false }
      : { exitCode: 1, signal: null, stdout: '', stderr: 'error: builder for unbuildable failed\n', timedOut: false };
  };
}

const noop = { onStart() {}, onLine() {}, onBuilt() {}, onFailed() {} };

describe('runBuildStage', () => {
  it('evaluates all hosts in one evaluator, builds once, and maps results by path', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions());
    const calls: string[][] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls), noop);
    expect(calls.map((c) => c[1])).toEqual(['eval', 'build']);
    expect(result.evaluations).toBe(1);
    expect(result.built.get('b')).toEqual({ toplevel: join(store, 'b-system') });
    expect(calls[1]!.filter((a) => a.endsWith('.drv'))).toEqual(['/nix/store/a.drv', '/nix/store/b.drv', '/nix/store/c.drv']);
  });

  it('pins an evaluation failure on its host and still builds the others', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('broken'), host('c')]), planOptions());
    const calls: string[][] = [];
    const failed: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls), { ...noop, onFailed: (h: string) => failed.push(h) });
    expect(failed).toEqual(['broken']);
    expect(result.failed.get('broken')?.reason).toBe('error: attribute missing in broken');
    expect([...result.built.keys()]).toEqual(['a', 'c']);
    expect(result.evaluations).toBe(4); // the shared evaluation, then one per host to find the culprit
  });

  it('pins a build failure on the host whose output is missing', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('unbuildable')]), planOptions());
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, []), noop);
    expect([...result.built.keys()]).toEqual(['a']);
    expect(result.failed.get('unbuildable')?.reason).toBe('error: builder for unbuildable failed');
  });
});
