// Shape and stability of the --json report, and its JSON Schema (schemas/report.schema.json).
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildJsonReport } from '../../../src/report/index.js';
import { generateReportTypes, REPORT_TYPES_URL } from '../../../scripts/gen-types.js';
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
      'command',
      'manifest',
      'flake',
      'startedAt',
      'finishedAt',
      'durationMs',
      'interrupted',
      'exitCode',
      'provenance',
      'evaluations',
      'totals',
      'hosts',
    ]);
    expect(report.reportVersion).toBe(2);
    expect(report.command).toBe('apply');
    expect(report.manifest).toBe(plan.manifestPath);
    expect(report.provenance).toEqual(plan.provenance);
    expect(report.startedAt).toBe('2025-01-02T12:00:00.000Z');
    expect(report.durationMs).toBe(14_000);
    expect(report.exitCode).toBe(1);
    expect(report.totals).toEqual({ hosts: 3, changed: 1, unchanged: 1, failed: 1, rolledBack: 0, unreachable: 0, skipped: 0 });
  });

  it('lists hosts in plan order with every step', () => {
    expect(report.hosts.map((h) => h.host)).toEqual(['vps-pacman', 'web-1', 'web-2']);
    const pacman = report.hosts[0]!;
    expect(Object.keys(pacman)).toEqual([
      'host', 'outcome', 'mode', 'target', 'step', 'reason', 'storePath', 'startedAt', 'finishedAt', 'durationMs', 'steps', 'tail', 'hint', 'history', 'diff', 'uploaded',
    ]);
    expect(pacman.target).toBe('root@vps-pacman:22');
    expect(pacman.history).toBeNull();
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

  it('embeds no internal plan type, and survives a JSON round trip', () => {
    expect(JSON.stringify(report)).not.toContain('"argv"');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('says per host whether the deploy history got its record', () => {
    const record = { recordVersion: 1 as const, time: '', host: 'web-1', action: 'deploy' as const, mode: 'switch' as const, system: '/nix/store/x', generation: 2, operator: 'a@b', ci: null, revision: null, fleetVersion: '0' };
    const r = buildJsonReport(plan, [{ ...WEB1, history: { written: true, record } }, { ...WEB2, history: { written: false, reason: 'exit 1' } }], { startedAt: T0, finishedAt: T0, interrupted: false });
    expect(r.hosts.map((h) => h.history)).toEqual([{ written: true, reason: null }, { written: false, reason: 'exit 1' }]);
  });

  it('names the single-step command whose run it reports', () => {
    const at = { startedAt: T0, finishedAt: T0, interrupted: false };
    expect(buildJsonReport({ ...plan, scope: { ...plan.scope, buildOnly: true } }, [], at).command).toBe('build');
    expect(buildJsonReport({ ...plan, scope: { ...plan.scope, steps: ['push-keys'] } }, [], at).command).toBe('push-keys');
    expect(buildJsonReport({ ...plan, scope: { ...plan.scope, steps: ['push-keys', 'bootstrap'] } }, [], at).command).toBe('bootstrap');
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

describe('schemas/report.schema.json', () => {
  it('src/report/report-types.ts matches it (run `npm run gen:types`)', async () => {
    expect(await readFile(REPORT_TYPES_URL, 'utf8')).toBe(await generateReportTypes());
  }, 30_000);

  it('accepts every report fleet builds, and refuses what it does not define', async () => {
    const schema = JSON.parse(await readFile(new URL('../../../schemas/report.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const validate = ajv.compile(schema);
    const plan = scriptPlan();
    const reports = [
      buildJsonReport(plan, [WEB2, PACMAN, WEB1], { startedAt: T0, finishedAt: T0 + 14_000, interrupted: false, evaluations: 1 }),
      buildJsonReport(plan, [{ ...WEB1, kind: 'skipped', storePath: undefined, history: { written: false, reason: 'x' } }], { startedAt: T0, finishedAt: T0, interrupted: true }),
      buildJsonReport({ ...plan, provenance: { operator: 'octocat', ci: { system: 'github-actions', actor: 'octocat', runUrl: null }, revision: 'abc-dirty', fleetVersion: '1' } }, [PACMAN], { startedAt: T0, finishedAt: T0, interrupted: false }),
    ];
    for (const report of reports) expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...reports[0], plan: {} })).toBe(false);
    expect(validate({ ...reports[0], reportVersion: 1 })).toBe(false);
  });
});
