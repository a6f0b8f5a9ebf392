// Shape and stability of the --json report.
import { describe, expect, it } from 'vitest';
import { buildJsonReport } from '../../../src/report/index.js';
import { PACMAN, PACMAN_PATH, T0, WEB1, WEB2, scriptPlan } from '../ui/event-script.js';

describe('buildJsonReport', () => {
  const plan = scriptPlan();
  // Given out of plan order on purpose.
  const report = buildJsonReport(plan, [WEB2, PACMAN, WEB1], {
    startedAt: T0,
    finishedAt: T0 + 14_000,
    interrupted: false,
  });

  it('has stable, versioned top-level keys in a fixed order', () => {
    expect(Object.keys(report)).toEqual([
      'reportVersion',
      'startedAt',
      'finishedAt',
      'durationMs',
      'interrupted',
      'exitCode',
      'evaluations',
      'totals',
      'hosts',
      'plan',
    ]);
    expect(report.reportVersion).toBe(1);
    expect(report.startedAt).toBe('2025-01-02T12:00:00.000Z');
    expect(report.durationMs).toBe(14_000);
    expect(report.exitCode).toBe(1);
    expect(report.totals).toEqual({ hosts: 3, changed: 1, unchanged: 1, failed: 1, rolledBack: 0, unreachable: 0, skipped: 0 });
  });

  it('lists hosts in plan order with every step', () => {
    expect(report.hosts.map((h) => h.host)).toEqual(['vps-pacman', 'web-1', 'web-2']);
    const pacman = report.hosts[0]!;
    expect(Object.keys(pacman)).toEqual([
      'host', 'outcome', 'mode', 'step', 'reason', 'storePath', 'startedAt', 'finishedAt', 'durationMs', 'steps', 'tail', 'hint', 'diff',
    ]);
    expect(pacman.diff).toBeNull();
    expect(pacman).toMatchObject({ outcome: 'changed', mode: 'switch', step: 'verify', storePath: PACMAN_PATH, durationMs: 12_300 });
    expect(pacman.steps.map((s) => [s.step, s.status])).toEqual([
      ['probe', 'done'],
      ['bootstrap', 'skipped'],
      ['deploy', 'done'],
      ['verify', 'done'],
    ]);
    expect(Object.keys(pacman.steps[0]!)).toEqual(['step', 'status', 'detail', 'startedAt', 'finishedAt', 'durationMs']);
    expect(pacman.steps[2]).toEqual({
      step: 'deploy',
      status: 'done',
      detail: `switch ${PACMAN_PATH}`,
      startedAt: '2025-01-02T12:00:01.400Z',
      finishedAt: '2025-01-02T12:00:12.000Z',
      durationMs: 10_600,
    });
    expect(report.hosts[2]!.tail).toEqual(WEB2.tail);
  });

  it('carries the plan as given and survives a JSON round trip', () => {
    expect(report.plan).toBe(plan);
    expect(JSON.parse(JSON.stringify(report))).toEqual(JSON.parse(JSON.stringify({ ...report })));
  });

  it('uses null for a missing store path and 130 when interrupted', () => {
    const r = buildJsonReport(plan, [{ ...WEB1, kind: 'skipped', storePath: undefined }], {
      startedAt: T0,
      finishedAt: T0,
      interrupted: true,
    });
    expect(r.hosts[0]!.storePath).toBeNull();
    expect(r.exitCode).toBe(130);
    expect(r.interrupted).toBe(true);
  });

  it('keeps outcomes of hosts the plan does not list, after the planned ones', () => {
    const stray = { ...WEB1, host: 'stray' };
    const r = buildJsonReport(plan, [stray, WEB1], { startedAt: T0, finishedAt: T0, interrupted: false });
    expect(r.hosts.map((h) => h.host)).toEqual(['web-1', 'stray']);
  });
});
