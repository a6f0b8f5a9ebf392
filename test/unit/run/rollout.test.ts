// runRollout with a scripted wave runner: the gate between waves, the skipped hosts' reasons, the
// rollback of a failing wave, the pause and an interrupt between waves.
import { describe, expect, it } from 'vitest';
import { buildPlan, type HostPlan, type Plan } from '../../../src/plan/index.js';
import type { RolloutSpec } from '../../../src/manifest/inventory.js';
import type { HostOutcome, OutcomeKind, RunEvent } from '../../../src/run/index.js';
import { runRollout, stopReason, type RolloutDeps } from '../../../src/run/rollout.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

const NAMES = ['can', 'a', 'b', 'c', 'd'];

function planWith(rollout: RolloutSpec): Plan {
  return buildPlan(inventory(NAMES.map((n) => host(n)), { rollout }), planOptions());
}

function outcome(name: string, kind: OutcomeKind, step: HostOutcome['step'] = 'verify'): HostOutcome {
  return { host: name, kind, mode: 'switch', step, reason: kind, tail: [], startedAt: 0, finishedAt: 0, steps: [] };
}

interface Script {
  /** How each host ends when its wave runs (default changed). */
  ends?: Record<string, OutcomeKind>;
  checks?: Record<string, string>;
  /** Hosts whose run did not change the target (default: every host that ran changed it). */
  untouched?: string[];
  abortAfterWave?: number;
}

function harness(plan: Plan, script: Script = {}) {
  const events: RunEvent[] = [];
  const ran: string[][] = [];
  const held: boolean[] = [];
  const rolledBack: [string, string][] = [];
  const paused: number[] = [];
  const controller = new AbortController();
  const deps: RolloutDeps = {
    plan,
    rollout: plan.rollout!,
    runWave: async (hosts: HostPlan[], holdDone: boolean) => {
      ran.push(hosts.map((h) => h.name));
      held.push(holdDone);
      const results = hosts.map((h) => outcome(h.name, script.ends?.[h.name] ?? 'changed'));
      if (script.abortAfterWave === ran.length) controller.abort();
      return results;
    },
    notStarted: (h, reason) => ({ ...outcome(h.name, 'skipped', 'build'), reason }),
    changedTarget: (name) => !(script.untouched ?? []).includes(name),
    failedCheck: (name) => script.checks?.[name],
    rollBack: async (h, o, why) => {
      rolledBack.push([h.name, why]);
      return { ...o, kind: 'rolled-back', step: 'rollback' };
    },
    emit: (e) => events.push(e),
    signal: controller.signal,
    pause: async (ms) => {
      paused.push(ms);
    },
    bounded: (work) => work(),
  };
  return { deps, events, ran, held, rolledBack, paused };
}

const kinds = (outcomes: HostOutcome[]) => Object.fromEntries(outcomes.map((o) => [o.host, o.kind]));

describe('runRollout', () => {
  it('runs the waves in order, pausing between them, and returns outcomes in plan order', async () => {
    const plan = planWith({ canary: ['can'], waves: { hosts: 2 }, pause: 5, onFailure: 'stop' });
    const h = harness(plan);
    const outcomes = await runRollout(h.deps);
    expect(h.ran).toEqual([['can'], ['a', 'b'], ['c', 'd']]);
    expect(h.paused).toEqual([5000, 5000]);
    expect(h.held).toEqual([false, false, false]);
    expect(outcomes.map((o) => o.host)).toEqual(NAMES);
    expect(kinds(outcomes)).toEqual({ can: 'changed', a: 'changed', b: 'changed', c: 'changed', d: 'changed' });
    expect(h.events.filter((e) => e.type === 'wave-start').map((e) => (e.type === 'wave-start' ? e.wave.index : 0))).toEqual([1, 2, 3]);
  });

  it('stops after a canary that failed its health check: later hosts skipped with the reason, none started', async () => {
    const plan = planWith({ canary: ['can'], waves: { hosts: 2 }, pause: 5, onFailure: 'stop' });
    const h = harness(plan, { ends: { can: 'failed' }, checks: { can: 'http' } });
    const outcomes = await runRollout(h.deps);
    expect(h.ran).toEqual([['can']]);
    expect(h.paused).toEqual([]);
    expect(h.rolledBack).toEqual([]);
    for (const o of outcomes.slice(1)) expect(o).toMatchObject({ kind: 'skipped', reason: "rollout stopped: canary can failed its health check 'http'" });
    expect(h.events).toContainEqual({ type: 'rollout-stopped', reason: "canary can failed its health check 'http'", rollingBack: [] });
    // Every host that never started still ends with its own host-done.
    expect(h.events.filter((e) => e.type === 'host-done').map((e) => (e.type === 'host-done' ? e.outcome.host : ''))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('with onFailure: rollback, rolls back the failing wave\'s changed and failed hosts, then announces their ends', async () => {
    const plan = planWith({ canary: ['can'], waves: { hosts: 2 }, pause: 0, onFailure: 'rollback' });
    const h = harness(plan, { ends: { a: 'changed', b: 'failed' } });
    const outcomes = await runRollout(h.deps);
    expect(h.ran).toEqual([['can'], ['a', 'b']]);
    expect(h.held).toEqual([true, true]);
    const why = 'rollout stopped: b (wave 2/3) failed at verify';
    expect(h.rolledBack).toEqual([
      ['a', why],
      ['b', why],
    ]);
    expect(kinds(outcomes)).toEqual({ can: 'changed', a: 'rolled-back', b: 'rolled-back', c: 'skipped', d: 'skipped' });
    const ends = h.events.filter((e) => e.type === 'host-done').map((e) => (e.type === 'host-done' ? `${e.outcome.host} ${e.outcome.kind}` : ''));
    // Held ends are announced once, after the wave's verdict: a rolled-back host never shows as changed.
    expect(ends).toEqual(['can changed', 'a rolled-back', 'b rolled-back', 'c skipped', 'd skipped']);
  });

  it('leaves unreachable, watchdog-rolled-back, unchanged and untouched failed hosts of a failing wave alone', async () => {
    const plan = planWith({ canary: [], waves: { hosts: 5 }, pause: 0, onFailure: 'rollback' });
    const h = harness(plan, { ends: { can: 'unchanged', a: 'unreachable', b: 'rolled-back', c: 'changed', d: 'failed' }, untouched: ['d'] });
    await runRollout(h.deps);
    expect(h.rolledBack.map(([name]) => name)).toEqual(['c']);
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'rollout-stopped', rollingBack: ['c'] }));
  });

  it('an interrupt during a wave: no later wave starts, nothing is rolled back', async () => {
    const plan = planWith({ canary: ['can'], waves: { hosts: 2 }, pause: 5, onFailure: 'rollback' });
    const h = harness(plan, { abortAfterWave: 1, ends: { can: 'failed' } });
    const outcomes = await runRollout(h.deps);
    expect(h.ran).toEqual([['can']]);
    expect(h.rolledBack).toEqual([]);
    expect(h.paused).toEqual([]);
    for (const o of outcomes.slice(1)) expect(o).toMatchObject({ kind: 'skipped', reason: 'interrupted before it started' });
  });
});

describe('stopReason', () => {
  const wave = { kind: 'wave' as const, index: 2, hosts: ['a', 'b', 'c'] };
  it.each<[string, HostOutcome[], string]>([
    ['a failed health check', [outcome('a', 'failed')], "a (wave 2/4) failed its health check 'http'"],
    ['a failed build', [outcome('b', 'failed', 'build')], 'b (wave 2/4) failed to build'],
    ['an unreachable host', [outcome('b', 'unreachable', 'lock')], 'b (wave 2/4) was unreachable'],
    ['a watchdog rollback', [outcome('b', 'rolled-back', 'verify')], 'b (wave 2/4) lost ssh after activation and was rolled back by its watchdog'],
    ['a failure before a skip', [outcome('b', 'skipped'), outcome('c', 'failed', 'deploy')], 'c (wave 2/4) failed at deploy (and 1 more host of the wave)'],
    ['several', [outcome('b', 'failed', 'deploy'), outcome('c', 'failed', 'deploy'), outcome('c', 'unreachable', 'lock')], 'b (wave 2/4) failed at deploy (and 2 more hosts of the wave)'],
  ])('%s', (_name, failing, expected) => {
    expect(stopReason(wave, 4, failing, (h) => (h === 'a' ? 'http' : undefined))).toBe(expected);
  });
});
