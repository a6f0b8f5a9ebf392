import { describe, expect, it } from 'vitest';
import { runBuildStage } from '../../../src/backends/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import { buildPlan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

/** A fake nix: fails any call that includes a "broken" host, else prints --json paths in order. */
function fakeNix(calls: string[][]): Exec {
  return async (request: ExecRequest) => {
    calls.push([...request.argv]);
    const installables = request.argv.filter((a) => a.includes('#nixosConfigurations'));
    if (installables.some((i) => i.includes('"broken"'))) {
      return { exitCode: 1, signal: null, stdout: '', stderr: 'error: attribute missing in broken\n', timedOut: false };
    }
    const json = installables.map((i) => ({ drvPath: '/nix/store/x.drv', outputs: { out: `/nix/store/${i.split('"')[1]}-${i.split('.').at(-1)}` } }));
    return { exitCode: 0, signal: null, stdout: JSON.stringify(json), stderr: '', timedOut: false };
  };
}

const noop = { onStart() {}, onLine() {}, onBuilt() {}, onFailed() {} };

describe('runBuildStage', () => {
  it('builds all hosts in one nix call when everything evaluates', async () => {
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions());
    const calls: string[][] = [];
    const result = await runBuildStage(plan.build, plan.commands, fakeNix(calls), noop);
    expect(calls).toHaveLength(1);
    expect(result.evaluations).toBe(1);
    expect(result.built.get('b')).toEqual({ toplevel: '/nix/store/b-toplevel' });
  });

  it('pins a failure on its host and still builds the others', async () => {
    const plan = buildPlan(inventory([host('a'), host('broken'), host('c')]), planOptions());
    const calls: string[][] = [];
    const failed: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, fakeNix(calls), { ...noop, onFailed: (h) => failed.push(h) });
    expect(failed).toEqual(['broken']);
    expect(result.failed.get('broken')?.reason).toBe('error: attribute missing in broken');
    expect([...result.built.keys()]).toEqual(['a', 'c']);
    expect(result.evaluations).toBe(4); // the shared call, then one per host to find the culprit
  });
});
