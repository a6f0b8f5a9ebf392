// A rollout's rollback of one host of a failed wave (onFailure: rollback): back to the generation
// it ran before this run, as `fleet rollback` does, with the history record of it.
import { HealthCheckFailed } from '../errors.js';
import { historyRecord, HostVerbs, type HostBuild } from '../backends/index.js';
import type { HostPlan } from '../plan/index.js';
import type { HostOutcome, StepRecord } from './events.js';
import { touched, type HostResult } from './host-stage.js';
import type { HostRunContext } from './host-steps.js';

/** Whether this run changed the host's target (keys, an install, an activation): only such a host is rolled back. */
export function changedTarget(host: HostPlan, result: HostResult | undefined): boolean {
  return result !== undefined && touched(result.stage) && host.mode !== 'dry-activate';
}

/** The name of the health check that failed the host, if one did. */
export function failedHealthCheck(result: HostResult | undefined): string | undefined {
  return result?.failure instanceof HealthCheckFailed ? result.failure.check : undefined;
}

/**
 * Rolls a host of a failed wave back to the generation it ran before this run. Only a host this
 * run changed (it ended changed, or failed after changing the target) is rolled back; `why` says
 * why the wave failed. Emits the rollback step; the caller emits the final outcome.
 */
export async function rollBackHost(host: HostPlan, build: HostBuild, result: HostResult, ctx: HostRunContext, why: string): Promise<HostOutcome> {
  const { outcome, stage } = result;
  if (!changedTarget(host, result) || stage.at === 'untouched' || (outcome.kind !== 'changed' && outcome.kind !== 'failed')) return outcome;
  const name = host.name;
  const generation = stage.contact.before.generation;
  const startedAt = ctx.now();
  // The outcome's steps with the rollback step added.
  const record = (status: StepRecord['status'], detail: string): StepRecord[] => [...outcome.steps, { step: 'rollback', status, detail, startedAt, finishedAt: ctx.now() }];
  if (generation === undefined) {
    const detail = 'not rolled back: the host had no system generation before this run';
    ctx.emit({ type: 'step-skip', host: name, step: 'rollback', reason: detail });
    return { ...outcome, reason: `${outcome.reason}; ${detail}`, steps: record('skipped', detail), finishedAt: ctx.now() };
  }
  const verbs = new HostVerbs(host, build, {
    exec: ctx.exec,
    signal: ctx.signal,
    now: ctx.now,
    sleep: ctx.sleep,
    onLine: (step, line) => ctx.emit({ type: 'step-line', host: name, step, line }),
    onQuietLine: (step, line) => ctx.emit({ type: 'step-line', host: name, step, line, quiet: true }),
  });
  const action = host.mode === 'boot' ? 'boot' : 'switch';
  ctx.emit({ type: 'step-start', host: name, step: 'rollback', title: `roll back to generation ${generation} (${action})` });
  // The commands the plan holds for it (`fleet plan` shows them).
  const back = await verbs.rollBack(generation, action, undefined, host.rollback);
  if (back.kind === 'changed') {
    // A rollback through fleet is a change of system: the host's history records it, as fleet rollback does.
    const planned: HostPlan['history'] = host.history;
    if (!('never' in planned) && back.storePath && back.generation !== undefined) {
      const entry = {
        ...historyRecord(ctx.plan.provenance, { time: ctx.now(), host: name, action: 'rollback', mode: action, system: back.storePath, generation: back.generation }),
        // Nothing was built for it: the revision is that of the generation gone back to, if recorded.
        revision: back.record?.revision ?? null,
      };
      const written = await verbs.appendHistory(planned.append, entry);
      if (!written.written) ctx.emit({ type: 'host-note', host: name, level: 'warn', message: `deploy history not written: ${written.reason}` });
    }
  }
  await verbs.close();
  const finishedAt = ctx.now();
  if (back.kind === 'unchanged') {
    // Failed before anything was activated: it still runs what it ran before.
    ctx.emit({ type: 'step-skip', host: name, step: 'rollback', reason: back.reason });
    return { ...outcome, steps: record('skipped', back.reason), finishedAt };
  }
  if (back.kind === 'changed') {
    ctx.emit({ type: 'step-done', host: name, step: 'rollback', detail: back.reason });
    const to = `rolled back to generation ${generation}`;
    const failure = result.failure;
    // A failed health check said the new system stays live: it no longer is.
    const reason =
      failure instanceof HealthCheckFailed
        ? `health check "${failure.check}" failed (${failure.detail}); ${to}`
        : outcome.kind === 'failed'
          ? `${outcome.reason}; ${to}`
          : `deployed, then ${to}: ${why}`;
    const { hint: _done, ...rest } = outcome;
    return { ...rest, kind: 'rolled-back', step: 'rollback', reason, steps: record('done', back.reason), finishedAt };
  }
  ctx.emit({ type: 'step-failed', host: name, step: 'rollback', reason: back.reason });
  return {
    ...outcome,
    kind: back.kind === 'unreachable' ? 'unreachable' : 'failed',
    step: 'rollback',
    reason: `${outcome.kind === 'failed' ? `${outcome.reason}; ` : ''}rolling back to generation ${generation} failed: ${back.reason}`,
    tail: back.tail.slice(-20),
    hint: `see fleet generations ${name}; fleet rollback ${name} --to ${generation}`,
    steps: record('failed', back.reason),
    finishedAt,
  };
}
