// The deploy history a host's sequence writes: a record of what fleet activated or installed on the
// host, appended over the held lock session where it still runs, else by its own call.
import { appendHistoryOverLock, historyRecord, type HistoryWrite, type ProbeFacts } from '../backends/index.js';
import type { HostPlan } from '../plan/index.js';
import { changesOf, type HostStage } from './host-stage.js';
import type { HostScope } from './host-steps.js';

/** What the target ran at the end, as far as the run saw. */
function lastSeen(stage: HostStage): ProbeFacts | undefined {
  if (stage.at === 'untouched') return undefined;
  if (stage.at === 'verified') return stage.running;
  if (stage.at === 'confirmed') return stage.confirmed;
  return stage.contact.facts;
}

/** Appends the record of this run's deploy or install to the host's history; a failure becomes a warning note. */
export async function recordDeploy(s: HostScope, stage: HostStage): Promise<HistoryWrite | undefined> {
  const planned: HostPlan['history'] = s.host.history;
  const mode = s.host.mode;
  if ('never' in planned || mode === 'dry-activate' || stage.at === 'untouched') return undefined;
  const installed = changesOf(stage).some((c) => c === 'installed');
  const facts = lastSeen(stage);
  const system = s.build.toplevel;
  const record = historyRecord(s.ctx.plan.provenance, {
    time: s.ctx.now(),
    host: s.host.name,
    action: installed ? 'install' : 'deploy',
    mode,
    system,
    // test mode makes no generation: the profile is then another system.
    generation: facts && facts.profile === system ? (facts.generation ?? null) : null,
  });
  // Over the held lock session, which is still open: no session of its own. Not after an install:
  // nixos-anywhere rebooted the host, and the session went with the installer.
  const overLock = planned.overLockSession && !installed ? stage.contact.connection.appendHistory : undefined;
  const written = overLock ? await appendHistoryOverLock(overLock, planned.file, record) : await s.verbs.appendHistory(planned.append, record);
  if (!written.written) s.note('warn', `deploy history not written: ${written.reason}`);
  return written;
}
