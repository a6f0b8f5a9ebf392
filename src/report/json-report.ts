// The `--json` report: a stable, versioned record of the plan, every host's outcome and every step.
import type { Plan } from '../plan/types.js';
import type { ClosureDiff, HostOutcome, OutcomeKind, Phase, StepRecord } from '../run/events.js';
import { exitCodeFor, summarize } from './exit-codes.js';

/** One step of one host in the report. */
export interface JsonStep {
  step: Phase;
  status: StepRecord['status'];
  detail: string;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** One host in the report. */
export interface JsonHost {
  host: string;
  outcome: OutcomeKind;
  mode: HostOutcome['mode'];
  /** The step the host ended in. */
  step: Phase;
  reason: string;
  /** The built system the host was to run, or null when the build did not get that far. */
  storePath: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  steps: JsonStep[];
  /** Last lines (at most 20) of the failing command; empty when nothing failed. */
  tail: string[];
  /** What to do about a failure, when fleet knows; null otherwise. */
  hint: string | null;
  /**
   * What the deploy changes (fleet diff, apply --diff/--confirm): `same`, `not-installed`, or
   * `changes` with the packages changed, added and removed and both closures' totals; null when
   * no diff was asked for or the host did not get that far.
   */
  diff: ClosureDiff | null;
}

/** Totals over all hosts. */
export interface JsonTotals {
  hosts: number;
  changed: number;
  unchanged: number;
  failed: number;
  rolledBack: number;
  unreachable: number;
  skipped: number;
}

/**
 * The report `fleet apply --json` prints. Keys and their order are stable within a
 * `reportVersion`; a breaking change bumps it.
 *
 * It holds only what it is given: the plan (argv, paths, descriptions of stdin, never key
 * material) and the outcomes (tool output tails, which exec/ has already redacted). Nothing
 * here reads files or the environment, so it cannot add secrets of its own.
 */
export interface JsonReport {
  reportVersion: 1;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  interrupted: boolean;
  /** What `fleet apply` exits with for this run. */
  exitCode: number;
  totals: JsonTotals;
  /** Evaluators (`nix eval` calls) the build stage ran: one per chunk unless a failure had to be attributed. */
  evaluations: number;
  /** Hosts in plan order (hosts unknown to the plan follow, in the order given). */
  hosts: JsonHost[];
  plan: Plan;
}

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
    durationMs: s.finishedAt - s.startedAt,
  };
}

function jsonHost(o: HostOutcome): JsonHost {
  return {
    host: o.host,
    outcome: o.kind,
    mode: o.mode,
    step: o.step,
    reason: o.reason,
    storePath: o.storePath ?? null,
    startedAt: iso(o.startedAt),
    finishedAt: iso(o.finishedAt),
    durationMs: o.finishedAt - o.startedAt,
    steps: o.steps.map(jsonStep),
    tail: [...o.tail],
    hint: o.hint ?? null,
    diff: o.diff ?? null,
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

/** Builds the `--json` report of a run. Pure: same input, same output. */
export function buildJsonReport(
  plan: Plan,
  outcomes: readonly HostOutcome[],
  times: RunTimes,
): JsonReport {
  const { counts } = summarize(outcomes);
  return {
    reportVersion: 1,
    startedAt: iso(times.startedAt),
    finishedAt: iso(times.finishedAt),
    durationMs: times.finishedAt - times.startedAt,
    interrupted: times.interrupted,
    exitCode: exitCodeFor(outcomes, { interrupted: times.interrupted }),
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
    hosts: inPlanOrder(plan, outcomes).map(jsonHost),
    plan,
  };
}
