// The `--json` report: a stable, versioned record of a run — every host's outcome and every step —
// shaped by schemas/report.schema.json (its types are generated), never by fleet's internal plan.
import type { Plan } from '../plan/types.js';
import type { ClosureDiff, HostOutcome, OutcomeKind, Phase, StepRecord } from '../run/events.js';
import { exitCodeFor, summarize } from './exit-codes.js';
import type { FleetReport, ReportHost, ReportOutcome, ReportPhase, ReportStep, ReportTotals } from './report-types.js';

/** The report as schemas/report.schema.json defines it. */
export type JsonReport = FleetReport;
export type JsonHost = ReportHost;
export type JsonStep = ReportStep;
export type JsonTotals = ReportTotals;

/** The report's version; `--retry-failed` reads only this one. */
export const REPORT_VERSION = 2;

// The schema's words and fleet's own must be the same sets: a new outcome or step is a compile
// error here until the schema (and with it the generated types) has it too.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const outcomesMatch: Same<OutcomeKind, ReportOutcome> = true;
const phasesMatch: Same<Phase, ReportPhase> = true;
void outcomesMatch;
void phasesMatch;

/** Times of the whole run, epoch milliseconds. */
export interface RunTimes {
  startedAt: number;
  finishedAt: number;
  interrupted: boolean;
  /** Evaluators the build stage ran (0 when unknown). */
  evaluations?: number;
}

/** Epoch milliseconds as ISO 8601 (the HostOutcome and StepRecord times are `Date.now()` values). */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function jsonStep(s: StepRecord): JsonStep {
  return {
    step: s.step,
    status: s.status,
    detail: s.detail,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    durationMs: Math.max(0, s.finishedAt - s.startedAt),
  };
}

/** `user@host:port`, or `local`. */
function targetOf(host: Plan['hosts'][number] | undefined): string {
  if (!host) return 'unknown';
  const t = host.target;
  return t.kind === 'local' ? 'local' : `${t.user}@${t.host}:${t.port}`;
}

function jsonHost(o: HostOutcome, planned: Plan['hosts'][number] | undefined): JsonHost {
  return {
    host: o.host,
    outcome: o.kind,
    mode: o.mode,
    target: targetOf(planned),
    step: o.step,
    reason: o.reason,
    storePath: o.storePath ?? null,
    startedAt: iso(o.startedAt),
    finishedAt: iso(o.finishedAt),
    durationMs: Math.max(0, o.finishedAt - o.startedAt),
    steps: o.steps.map(jsonStep),
    tail: [...o.tail],
    hint: o.hint ?? null,
    history: o.history ? { written: o.history.written, reason: o.history.written ? null : o.history.reason } : null,
    diff: o.diff ?? null,
    uploaded: o.uploaded ?? null,
  };
}

/** Orders outcomes as the plan lists its hosts; outcomes for unknown hosts keep their order, last. */
function inPlanOrder(plan: Plan, outcomes: readonly HostOutcome[]): HostOutcome[] {
  const rank = new Map(plan.hosts.map((h, i) => [h.name, i] as const));
  return outcomes
    .map((o, i) => ({ o, key: rank.get(o.host) ?? plan.hosts.length + i }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.o);
}

/** Which command a plan's scope is: apply, or one of its single-step commands. */
export function reportCommand(scope: Plan['scope']): JsonReport['command'] {
  if (scope.buildOnly) return 'build';
  const last = scope.steps.at(-1);
  if (last === 'push-keys') return 'push-keys';
  if (last === 'bootstrap') return 'bootstrap';
  if (last === 'secrets') return 'push-secrets';
  if (last === 'diff') return 'diff';
  return 'apply';
}

/** Builds the `--json` report of a run. Pure: same input, same output. */
export function buildJsonReport(
  plan: Plan,
  outcomes: readonly HostOutcome[],
  times: RunTimes,
): JsonReport {
  const { counts } = summarize(outcomes);
  const planned = new Map(plan.hosts.map((h) => [h.name, h] as const));
  return {
    reportVersion: REPORT_VERSION,
    command: reportCommand(plan.scope),
    manifest: plan.manifestPath,
    flake: plan.flake,
    startedAt: iso(times.startedAt),
    finishedAt: iso(times.finishedAt),
    durationMs: Math.max(0, times.finishedAt - times.startedAt),
    interrupted: times.interrupted,
    exitCode: exitCodeFor(outcomes, { interrupted: times.interrupted }),
    provenance: { ...plan.provenance, ci: plan.provenance.ci ? { ...plan.provenance.ci } : null },
    evaluations: times.evaluations ?? 0,
    totals: {
      hosts: outcomes.length,
      changed: counts.changed,
      unchanged: counts.unchanged,
      failed: counts.failed,
      rolledBack: counts['rolled-back'],
      unreachable: counts.unreachable,
      skipped: counts.skipped,
    },
    hosts: inPlanOrder(plan, outcomes).map((o) => jsonHost(o, planned.get(o.host))),
  };
}
