// A rollout's rollback is planned: each host of a rollout with onFailure: rollback carries the
// commands it runs when its wave fails, and `fleet plan` shows them (human and JSON).
import { describe, expect, it } from 'vitest';
import { buildPlan, fleetRollbackPlan, resolveArgv } from '../../../src/plan/index.js';
import { formatPlan, formatRollbackPlan } from '../../../src/ui/format-plan.js';
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

  it('fleet plan --for rollback: the lock, then the rollback’s commands over one-shot connections; a local target has none', () => {
    const plan = buildPlan(inventory([host('web-1'), host('here', { target: { kind: 'local' } })]), planOptions());
    const [web1, here] = plan.hosts.map((h) => fleetRollbackPlan(h, 'switch', 30, 'alice@laptop'));
    expect(web1).toMatchObject({ host: 'web-1', lock: { purpose: 'lock and probe' }, rollback: { action: 'switch', arm: { purpose: 'arm watchdog' } } });
    if (!web1 || 'never' in web1) throw new Error('web-1 has a rollback');
    // No shared master is left behind by fleet rollback's own commands.
    expect(resolveArgv(web1.rollback.activate.argv, { generation: '3' }).filter((w) => /^Control(Master|Path)=/.test(w))).toEqual([]);
    expect(resolveArgv(web1.lock.argv, {}).filter((w) => /^ControlMaster=/.test(w))).toEqual(['ControlMaster=auto']);
    expect(here).toEqual({ host: 'here', never: 'fleet rollback works over ssh only (a local target is not rolled back)' });
    const lines = formatRollbackPlan('switch', [web1, here!]);
    expect(lines).toContain('here  never (fleet rollback works over ssh only (a local target is not rolled back))');
    expect(lines.join('\n')).toMatch(/^ {4}lock and probe: \$ ssh [\s\S]*^ {4}list generations: \$ ssh [\s\S]*^ {4}arm watchdog: [\s\S]*<rollback script> [\s\S]*^ {4}confirm watchdog and verify: [\s\S]*^ {4}record a verified rollback in the host history: \$ ssh .*<append-history script> fleet-history \/nix\/var\/fleet\/history\.jsonl' <historyRecord>$/m);
    // The history append too is one-shot, with the record filled in at run time.
    expect(resolveArgv(web1.history.argv, { historyRecord: '{}' }).filter((w) => /^Control(Master|Path)=/.test(w))).toEqual([]);
    expect(web1.history.argv.at(-1)).toEqual({ ref: 'historyRecord', remote: true });
    // boot: no watchdog, the fresh probe checks the boot default.
    const boot = fleetRollbackPlan(plan.hosts[0]!, 'boot', 30, 'alice@laptop');
    expect(boot).toMatchObject({ rollback: { action: 'boot', check: { purpose: 'verify' } } });
    expect('never' in boot ? undefined : boot.rollback.arm).toBeUndefined();
  });
});
