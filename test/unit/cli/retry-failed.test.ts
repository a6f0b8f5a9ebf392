// --retry-failed: which hosts a kept report selects, and which reports are refused.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeError } from '../../../src/cli/main.js';
import { describeRetry, hostsToRetry, keepLastRun, lastRunPath, planRetry, retrySelection } from '../../../src/cli/retry-failed.js';
import { buildPlan } from '../../../src/plan/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';
import { UsageError } from '../../../src/errors.js';

let dir: string;
let manifest: string;
const none = { only: [], tags: [], exclude: [] };

function report(hosts: [string, string][], extra: Record<string, unknown> = {}) {
  return { reportVersion: 2, manifest, startedAt: '2026-11-30T18:00:00.000Z', hosts: hosts.map(([host, outcome]) => ({ host, outcome })), ...extra };
}

function keep(value: unknown, path = lastRunPath(join(dir, '.fleet'))): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-retry-'));
  manifest = join(dir, 'fleet.yaml');
  writeFileSync(manifest, 'version: 1\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('--retry-failed', () => {
  it('selects exactly the hosts that did not end changed or unchanged, from the last run beside the manifest', () => {
    keep(report([['web-1', 'changed'], ['web-2', 'failed'], ['db', 'unchanged'], ['vps', 'rolled-back'], ['edge', 'unreachable'], ['late', 'skipped']]));
    const plan = planRetry({ file: manifest, report: '', selection: none }, {}, dir);
    if ('nothing' in plan) throw new Error(plan.nothing);
    expect(plan.hosts.map((h) => h.name)).toEqual(['web-2', 'vps', 'edge', 'late']);
    expect(describeRetry(plan)).toBe('retrying 4 hosts that did not end changed or unchanged in the run of 2026-11-30T18:00:00.000Z: web-2 (failed), vps (rolled-back), edge (unreachable), late (skipped)');
  });

  it('says so when nothing failed', () => {
    keep(report([['web-1', 'changed'], ['db', 'unchanged']]));
    expect(planRetry({ file: manifest, report: '', selection: none }, {}, dir)).toEqual({
      nothing: `nothing to retry: every host of the run of 2026-11-30T18:00:00.000Z ended changed or unchanged (${join(dir, '.fleet', 'last-run.json')})`,
    });
  });

  it('takes another report when named, relative to the working directory', () => {
    keep(report([['db', 'failed']]), join(dir, 'ci-report.json'));
    const plan = planRetry({ file: manifest, report: 'ci-report.json', selection: none }, {}, dir);
    expect('hosts' in plan && plan.hosts.map((h) => h.name)).toEqual(['db']);
  });

  it('refuses a report of another manifest, of another version, or no report at all, in one line each', () => {
    keep(report([['db', 'failed']], { manifest: '/elsewhere/fleet.yaml' }));
    expect(refusal(() => planRetry({ file: manifest, report: '', selection: none }, {}, dir))).toMatch(/is the report of another manifest \(\/elsewhere\/fleet.yaml\), not of /);
    keep(report([['db', 'failed']], { reportVersion: 1 }));
    expect(refusal(() => planRetry({ file: manifest, report: '', selection: none }, {}, dir))).toMatch(/is a report of version 1; this fleet reads version 2/);
    keep('not json');
    writeFileSync(lastRunPath(join(dir, '.fleet')), '{');
    expect(refusal(() => planRetry({ file: manifest, report: '', selection: none }, {}, dir))).toMatch(/is not a fleet report \(not JSON\)/);
    expect(refusal(() => planRetry({ file: manifest, report: 'nope.json', selection: none }, {}, dir))).toBe(`no report to retry from: ${join(dir, 'nope.json')} does not exist`);
  });

  it('refuses host selectors beside it: the report selects', () => {
    keep(report([['db', 'failed']]));
    expect(refusal(() => planRetry({ file: manifest, report: '', selection: { ...none, only: ['web-*'] } }, {}, dir))).toMatch(/selects the hosts itself/);
  });

  it('keeps the last run atomically, readable, in the state directory', () => {
    const state = join(dir, '.fleet');
    keepLastRun(state, JSON.stringify(report([['a', 'failed']])));
    expect(hostsToRetry(JSON.parse(readFileSync(lastRunPath(state), 'utf8')))).toEqual([{ name: 'a', outcome: 'failed' }]);
    expect(statSync(lastRunPath(state)).mode & 0o777).toBe(0o644);
  });
});

describe('--retry-failed reads names, never selectors', () => {
  const fleet = inventory([host('lab1'), host('lab2'), host('web', { tags: ['all'] })]);
  const selected = (hosts: [string, string][]) => {
    keep(report(hosts));
    const plan = planRetry({ file: manifest, report: '', selection: none }, {}, dir);
    if ('nothing' in plan) throw new Error(plan.nothing);
    return { plan, hosts: () => buildPlan(fleet, planOptions({ selection: retrySelection(plan) })).hosts.map((h) => h.name) };
  };

  it.each([['lab*'], ['@all'], ['lab?'], [' lab1'], ['lab1,lab2']])('a report naming %j is an unknown host (exit 2), never a glob, tag or list', (name) => {
    const { hosts } = selected([['lab1', 'failed'], [name, 'failed']]);
    let thrown: unknown;
    try {
      hosts();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toBe(
      `unknown host ${JSON.stringify(name)} in ${join(dir, '.fleet', 'last-run.json')}: a host name read from a file is compared exactly with the manifest's (never a glob or a tag)`,
    );
    expect(describeError(thrown).exitCode).toBe(2);
  });

  it('selects exactly the names in the report; a host named twice is retried once', () => {
    const { plan, hosts } = selected([['lab2', 'failed'], ['lab1', 'changed'], ['lab2', 'unreachable'], ['web', 'skipped']]);
    expect(plan.hosts).toEqual([{ name: 'lab2', outcome: 'failed' }, { name: 'web', outcome: 'skipped' }]);
    expect(describeRetry(plan)).toMatch(/^retrying 2 hosts .*: lab2 \(failed\), web \(skipped\)$/);
    expect(hosts()).toEqual(['lab2', 'web']);
  });
});
