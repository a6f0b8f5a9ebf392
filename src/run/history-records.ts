// The deploy history a host's sequence writes: one record for every system fleet activated or
// installed on the host, whatever its outcome (an audit log), and one for the watchdog's own
// rollback when fleet saw it happen. Appended over the held lock session where it still runs,
// else by a call of its own; a failed write is a warning, never a failure.
import { HealthCheckFailed, Interrupted, UnreachableAfterDeadline, WatchdogRolledBack, type HostError } from '../errors.js';
import { appendHistoryOverLock, historyRecord, type HistoryRecord, type HistoryWrite, type ProbeFacts } from '../backends/index.js';
import type { HostPlan, RecordHistoryStep } from '../plan/index.js';
import { activatedOrInstalled, changesOf, type Contacted, type HostStage } from './host-stage.js';
import type { HostScope } from './host-steps.js';

/** What the target ran at the end, as far as the run saw. */
function lastSeen(stage: Contacted): ProbeFacts {
  if (stage.at === 'verified') return stage.running;
  if (stage.at === 'confirmed') return stage.confirmed;
  return stage.contact.facts;
}

/** The outcome a record states, from the failure that ended the host (none: verified). */
export function recordedOutcome(failure: HostError | undefined): string {
  if (!failure) return 'verified';
  if (failure instanceof HealthCheckFailed) return `health check '${failure.check}' failed`;
  if (failure instanceof WatchdogRolledBack) return 'lost ssh: the watchdog rolls back';
  if (failure instanceof Interrupted) return `interrupted: ${failure.message}`;
  return `failed: ${failure.message}`;
}

/**
 * Appends the records of what this run activated or installed on the host: the deploy (or
 * install) with its outcome and, when the watchdog rolled the host back, that rollback. Nothing
 * for a host on which no system was activated, nor in dry-activate.
 */
export async function recordActivations(s: HostScope, stage: HostStage, failure: HostError | undefined): Promise<HistoryWrite[]> {
  const planned: HostPlan['history'] = s.host.history;
  const mode = s.host.mode;
  if ('never' in planned || mode === 'dry-activate' || stage.at === 'untouched' || !activatedOrInstalled(stage)) return [];
  if (failure instanceof UnreachableAfterDeadline) {
    s.note('warn', 'deploy history not written: the host did not come back after its watchdog deadline');
    return [];
  }
  const installed = changesOf(stage).some((c) => c === 'installed');
  const facts = lastSeen(stage);
  const system = s.build.toplevel;
  const records: HistoryRecord[] = [
    historyRecord(s.ctx.plan.provenance, {
      time: s.ctx.now(),
      host: s.host.name,
      action: installed ? 'install' : 'deploy',
      mode,
      system,
      // test mode makes no generation: the profile is then another system; unknown when not seen.
      generation: facts.profile === system ? (facts.generation ?? null) : null,
      outcome: recordedOutcome(failure),
    }),
  ];
  if (failure instanceof WatchdogRolledBack) {
    const before = stage.contact.before;
    records.push({
      ...historyRecord(s.ctx.plan.provenance, {
        time: s.ctx.now(),
        host: s.host.name,
        action: 'rollback',
        mode: mode === 'boot' ? 'boot' : 'switch',
        system: failure.system,
        generation: before.profile === failure.system ? (before.generation ?? null) : null,
        outcome: 'by the watchdog: no fresh ssh connection confirmed the new system',
      }),
      // Nothing was built for it: the revision of what runs again is not this run's.
      revision: null,
    });
  }
  const written: HistoryWrite[] = [];
  for (const record of records) written.push(await append(s, planned, stage, record, installed || failure !== undefined));
  for (const w of written) if (!w.written) s.note('warn', `deploy history not written: ${w.reason}`);
  return written;
}

/**
 * Over the held lock session, which is still open: no session of its own. Not after an install
 * (nixos-anywhere rebooted the host, and the session went with the installer), nor after a
 * failure (the session may have gone with the link): a call of its own then.
 */
function append(s: HostScope, planned: RecordHistoryStep, stage: Contacted, record: HistoryRecord, ownCall: boolean): Promise<HistoryWrite> {
  const overLock = planned.overLockSession && !ownCall ? stage.contact.connection.appendHistory : undefined;
  return overLock ? appendHistoryOverLock(overLock, planned.file, record) : s.verbs.appendHistory(planned.append, record);
}
