// A rollout's rollback is planned: each host of a rollout with onFailure: rollback carries the
// commands it runs when its wave fails, and `fleet plan` shows them (human and JSON).
import { describe, expect, it } from 'vitest';
import { buildPlan, resolveArgv } from '../../../src/plan/index.js';
import { formatPlan } from '../../../src/ui/format-plan.js';
import { host, inventory, planOptions } from './inventory-fixture.js';

const hosts = [host('web-1'), host('web-2'), host('db', { mode: 'boot' })];

describe('a rollout’s rollback in the plan', () => {
  it('onFailure: rollback gives each host its rollback commands, the generation filled in at run time', () => {
    const plan = buildPlan(inventory(hosts), planOptions({ rollout: { canary: ['web-1'], onFailure: 'rollback' } }));
    const web1 = plan.hosts.find((h) => h.name === 'web-1')!;
    expect(web1.rollback).toMatchObject({ kind: 'rollback', action: 'switch' });
    expect(web1.rollback!.arm?.purpose).toBe('arm watchdog');
    expect(web1.rollback!.confirm?.purpose).toBe('confirm watchdog and verify');
    // The generation is a run-time value: the command is complete once it is given.
    const activate = resolveArgv(web1.rollback!.activate.argv, { generation: '7' }).join(' ');
    expect(activate).toMatch(/^ssh .* root@web-1\.example\.org [\s\S]*fleet-rollback \/nix\/var\/nix\/profiles\/system 7 switch$/);
    // boot mode goes back to the boot default only, unwatched.
    const db = plan.hosts.find((h) => h.name === 'db')!;
    expect(db.rollback).toMatchObject({ action: 'boot' });
    expect(db.rollback!.arm).toBeUndefined();
    // The JSON plan is the plan: the rollback is in it.
    expect(JSON.parse(JSON.stringify(plan)).hosts[0].rollback.activate.argv).toContainEqual({ ref: 'generation', remote: true });
    const text = formatPlan(plan).join('\n');
    expect(text).toMatch(/^ {2}rollback {2}only when its rollout wave fails and this run changed the host: .* \(switch\)$/m);
    expect(text).toMatch(/switch the profile to <generation>, switch-to-configuration switch: \$ ssh .* <rollback script> fleet-rollback \/nix\/var\/nix\/profiles\/system.? <generation> switch$/m);
  });

  it('no rollback step without a rollout that rolls back', () => {
    const stop = buildPlan(inventory(hosts), planOptions({ rollout: { canary: ['web-1'], onFailure: 'stop' } }));
    expect(stop.hosts.map((h) => h.rollback)).toEqual([undefined, undefined, undefined]);
    const none = buildPlan(inventory(hosts), planOptions());
    expect(none.hosts.some((h) => 'rollback' in h)).toBe(false);
    expect(formatPlan(none).join('\n')).not.toMatch(/^ {2}rollback /m);
  });
});
