// The operating commands that change hosts (rollback, reboot) or a root on this machine (install),
// on the one operating runner (operate-run.ts): the same verbs, defaults and interrupt policy.
import { HostError } from '../errors.js';
import { execProcess, tailLines, type Exec } from '../exec/index.js';
import { historyRecord, placeInstallKeys, resolveKeys, runNixosInstall, SecretReader, type HistoryWrite, type RebootResult } from '../backends/index.js';
import { fleetRebootPlan, fleetRollbackPlan, type HostPlan, type Plan } from '../plan/index.js';
import type { HostOutcome } from './events.js';
import { ended, message, NOT_STARTED, OPERATE_DEFAULTS, operate, type OperateDeps, type OperateResult } from './operate-run.js';
// ------------------------------------------------------------------------------------------------
// fleet rollback

export interface RollbackRequest {
  /** --to N; undefined: the generation before the boot default. */
  to?: number;
  action: 'switch' | 'boot';
  /** Seconds to wait for another run's deploy lock (default OPERATE_DEFAULTS.lockWaitSeconds). */
  lockWaitSeconds?: number;
  /** Who holds the lock, as the lock file says (`user@machine`). */
  operator: string;
}

/**
 * Every selected host back to a generation (the rollback verb a rollout's wave uses too), and a
 * verified rollback recorded in the host's deploy history as a deploy is.
 */
export function rollbackHosts(plan: Plan, request: RollbackRequest, deps: OperateDeps<HostOutcome>): Promise<OperateResult<HostOutcome>> {
  const { action } = request;
  const now = deps.now ?? Date.now;
  const notRun = (host: string, reason: string, kind: 'skipped' | 'failed'): HostOutcome => {
    const at = now();
    return { host, kind, mode: action, step: 'probe', reason, tail: [], startedAt: at, finishedAt: at, steps: [] };
  };
  return operate<HostOutcome>(
    plan,
    {
      step: 'rollback',
      async run(host, { verbs, start }) {
        const startedAt = now();
        if (!host.ssh) throw new HostError(host.name, 'rollback', `${host.name}: fleet rollback works over ssh only`);
        start(`${request.to !== undefined ? `to generation ${request.to}` : 'to the previous generation'} (${action})`);
        // The commands `fleet plan --for rollback` shows.
        const planned = fleetRollbackPlan(host, action, request.lockWaitSeconds ?? OPERATE_DEFAULTS.lockWaitSeconds, request.operator);
        if ('never' in planned) throw new HostError(host.name, 'rollback', planned.never);
        const result = await verbs.rollBack(request.to, action, planned.lock, planned.rollback);
        // A verified rollback is a change of system like a deploy: the host's history records it.
        let history: HistoryWrite | undefined;
        if (result.kind === 'changed' && result.storePath && result.generation !== undefined) {
          // Nothing is built from the flake: the revision is that of the generation gone back to, if recorded.
          const record = {
            ...historyRecord(plan.provenance, { time: now(), host: host.name, action: 'rollback', mode: action, system: result.storePath, generation: result.generation }),
            revision: result.record?.revision ?? null,
          };
          history = await verbs.appendHistory(planned.history, record, 'rollback', true);
        }
        return {
          host: host.name,
          kind: result.kind,
          mode: action,
          step: result.step,
          reason: history && !history.written ? `${result.reason} (deploy history not written: ${history.reason})` : result.reason,
          ...(history ? { history } : {}),
          summary: result.generation === undefined ? undefined : result.kind === 'changed' ? `rolled back to generation ${result.generation} (${action})` : `already on generation ${result.generation}`,
          storePath: result.storePath,
          tail: result.tail,
          startedAt,
          finishedAt: now(),
          steps: [],
        };
      },
      notStarted: (host) => notRun(host.name, NOT_STARTED, 'skipped'),
      failed: (host, error) => notRun(host.name, message(error), 'failed'),
      outcome: (o) => o,
    },
    deps,
  );
}

// ------------------------------------------------------------------------------------------------
// fleet reboot

/** One host's reboot. */
export type RebootHostResult = RebootResult & { host: string; durationMs: number };

/**
 * Every selected host rebooted and waited for (bounded), as `fleetRebootPlan` plans it; its secrets
 * uploaded again once it is back (/run/keys is empty after a reboot). Their sources are read
 * first, so a host whose secrets could not be restored is not rebooted.
 */
export async function rebootHosts(plan: Plan, waitSeconds: number, deps: OperateDeps<RebootHostResult>): Promise<OperateResult<RebootHostResult>> {
  const now = deps.now ?? Date.now;
  const reader = new SecretReader(deps.exec ?? execProcess);
  const failed = (host: string, detail: string): RebootHostResult => ({ host, kind: 'failed', detail, durationMs: 0 });
  try {
    return await operate<RebootHostResult>(
      plan,
      {
        step: 'reboot',
        async run(host, { verbs, start }) {
          const started = now();
          // The commands `fleet plan --for reboot` shows.
          const planned = fleetRebootPlan(host, waitSeconds);
          if ('never' in planned) throw new HostError(host.name, 'reboot', planned.never);
          const { reboot } = planned;
          const restore = reboot.restoreSecrets;
          const contents = restore ? await reader.readAll(host.name, 'reboot', restore.upload.secrets, deps.signal) : undefined;
          start(`reboot, then wait up to ${reboot.waitSeconds}s for a new boot id${restore ? ', then upload its secrets again' : ''}`);
          const result = await verbs.rebootAndWait(reboot);
          if (result.kind !== 'rebooted' || !restore || !contents) return { host: host.name, durationMs: now() - started, ...result };
          try {
            const restored = await verbs.restoreSecrets(restore, contents, 'reboot');
            return { host: host.name, durationMs: now() - started, ...result, detail: `${result.detail}; ${restored}` };
          } catch (error) {
            return { host: host.name, durationMs: now() - started, ...result, kind: 'failed', detail: `${result.detail}, but its secrets are not back: ${message(error)}` };
          }
        },
        notStarted: (host) => failed(host.name, NOT_STARTED),
        failed: (host, error) => failed(host.name, message(error)),
        outcome: (r, base) => ended(base, r.kind === 'rebooted', 'changed', r.detail, 'rebooted'),
      },
      deps,
    );
  } finally {
    reader.dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet install (into a mounted root on this machine)

/**
 * Places the host's key files under the root (generating the host key if the policy says so);
 * the paths written, or undefined when the host's keys are never pushed.
 */
export async function placeKeysUnder(host: HostPlan, root: string, deps: { exec?: Exec; signal?: AbortSignal }): Promise<string[] | undefined> {
  if (!host.keys || host.keys.push === 'never') return undefined;
  const keys = await resolveKeys(host.name, host.keys, deps.exec ?? execProcess, deps.signal);
  return placeInstallKeys(root, host.keys.destination, keys.files);
}

/** nixos-install of the built system into the root; ok, and the last lines of its output. */
export async function installIntoRoot(
  plan: Plan,
  root: string,
  system: string,
  deps: Pick<OperateDeps, 'exec' | 'signal'> & { onLine: (line: string) => void },
): Promise<{ ok: boolean; exitCode: number | null; signal: string | null; tail: string[] }> {
  const run = await runNixosInstall(plan.commands, root, system, deps.exec ?? execProcess, { signal: deps.signal, onLine: deps.onLine });
  return { ok: run.exitCode === 0, exitCode: run.exitCode, signal: run.signal, tail: tailLines(run) };
}
