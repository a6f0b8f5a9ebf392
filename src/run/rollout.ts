// A rollout: the plan's waves one after the other, each gated on the one before. A wave passes when
// every host in it ends changed or unchanged; when one fails, no later wave starts (its hosts end
// skipped, naming the cause) and, with onFailure: rollback, the failing wave's changed hosts go
// back to what they ran before. Within a wave, hosts start as their own systems are evaluated.
import type { HostPlan, Plan, RolloutPlan, Wave } from '../plan/index.js';
import type { HostOutcome, RunEvent } from './events.js';

/** What the rollout needs from the run that drives it. */
export interface RolloutDeps {
  plan: Plan;
  rollout: RolloutPlan;
  /**
   * Runs the hosts of one wave (up to `parallel` at once) and returns their outcomes in order.
   * With `holdDone`, their `host-done` events are left to the rollout (it may roll them back first).
   */
  runWave: (hosts: HostPlan[], holdDone: boolean) => Promise<HostOutcome[]>;
  /** The outcome of a host that never starts, `reason` saying why (a failed build still says so). */
  notStarted: (host: HostPlan, reason: string) => HostOutcome;
  /** Whether a host's run changed its target (only those are rolled back). */
  changedTarget: (host: string) => boolean;
  /** The health check that failed a host of the wave, if one did. */
  failedCheck: (host: string) => string | undefined;
  /** Rolls one host of a failed wave back (or says why not), returning its final outcome. */
  rollBack: (host: HostPlan, outcome: HostOutcome, why: string) => Promise<HostOutcome>;
  emit: (event: RunEvent) => void;
  signal: AbortSignal;
  /** Waits `ms`, or less when `signal` is aborted. */
  pause: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Bounds the rollbacks of a failed wave like its deploys (`parallel`). */
  bounded: <T>(work: () => Promise<T>) => Promise<T>;
}

const PASSED: readonly HostOutcome['kind'][] = ['changed', 'unchanged'];

/** `canary vps-pacman`, `web-3 (wave 2/4)`. */
function who(host: string, wave: Wave, waves: number): string {
  return wave.kind === 'canary' ? `canary ${host}` : `${host} (wave ${wave.index}/${waves})`;
}

/** What went wrong with one host, for the skipped hosts' reason: `failed its health check 'http'`. */
function whatFailed(outcome: HostOutcome, check: string | undefined): string {
  if (check !== undefined) return `failed its health check '${check}'`;
  switch (outcome.kind) {
    case 'rolled-back':
      return 'lost ssh after activation and was rolled back by its watchdog';
    case 'unreachable':
      return 'was unreachable';
    case 'skipped':
      return `was skipped (${outcome.reason})`;
    default:
      return outcome.step === 'build' ? 'failed to build' : `failed at ${outcome.step}`;
  }
}

/** Why the rollout stops after `failing` hosts of `wave` did not pass: the first one, and how many more. */
export function stopReason(wave: Wave, waves: number, failing: readonly HostOutcome[], failedCheck: (host: string) => string | undefined): string {
  // A host that failed says more than one skipped because of it (fail-fast, no consent).
  const ranked = [...failing.filter((o) => o.kind !== 'skipped'), ...failing.filter((o) => o.kind === 'skipped')];
  const first = ranked[0] as HostOutcome;
  const more = failing.length > 1 ? ` (and ${failing.length - 1} more host${failing.length > 2 ? 's' : ''} of the wave)` : '';
  return `${who(first.host, wave, waves)} ${whatFailed(first, failedCheck(first.host))}${more}`;
}

/** Runs the waves in order; returns one outcome per host of the plan, in plan order. */
export async function runRollout(deps: RolloutDeps): Promise<HostOutcome[]> {
  const { plan, rollout, emit, signal } = deps;
  const byName = new Map(plan.hosts.map((h) => [h.name, h] as const));
  const outcomes = new Map<string, HostOutcome>();
  const waves = rollout.waves.length;
  const hold = rollout.onFailure === 'rollback';
  let stopped: string | undefined;

  const skipAll = (wave: Wave, reason: string) => {
    for (const name of wave.hosts) {
      const outcome = deps.notStarted(byName.get(name)!, reason);
      outcomes.set(name, outcome);
      emit({ type: 'host-done', outcome });
    }
  };

  for (const wave of rollout.waves) {
    if (stopped !== undefined) {
      skipAll(wave, `rollout stopped: ${stopped}`);
      continue;
    }
    if (wave.index > 1 && rollout.pauseSeconds > 0 && !signal.aborted) {
      emit({ type: 'wave-pause', seconds: rollout.pauseSeconds, next: wave, waves });
      await deps.pause(rollout.pauseSeconds * 1000, signal);
    }
    if (signal.aborted) {
      skipAll(wave, 'interrupted before it started');
      continue;
    }
    emit({ type: 'wave-start', wave, waves });
    const hosts = wave.hosts.map((name) => byName.get(name)!);
    let results = await deps.runWave(hosts, hold);
    const failing = results.filter((o) => !PASSED.includes(o.kind));
    // An interrupted wave is not judged: the user stopped the run, and nothing more is done to it.
    if (failing.length > 0 && !signal.aborted) {
      stopped = stopReason(wave, waves, failing, deps.failedCheck);
      // Changed hosts, and failed ones that got as far as changing the target (e.g. a failed health check).
      const rollingBack = hold ? results.filter((o) => (o.kind === 'changed' || o.kind === 'failed') && deps.changedTarget(o.host)).map((o) => o.host) : [];
      emit({ type: 'rollout-stopped', reason: stopped, rollingBack });
      if (hold) {
        const why = `rollout stopped: ${stopped}`;
        results = await Promise.all(results.map((o, i) => (rollingBack.includes(o.host) ? deps.bounded(() => deps.rollBack(hosts[i]!, o, why)) : Promise.resolve(o))));
      }
    }
    for (const outcome of results) {
      outcomes.set(outcome.host, outcome);
      if (hold) emit({ type: 'host-done', outcome });
    }
  }
  return plan.hosts.map((h) => outcomes.get(h.name) ?? deps.notStarted(h, 'in no wave of the rollout'));
}
