// The operating commands that change hosts: rollback, reboot, and install into a local root.
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { UsageError } from '../errors.js';
import { execProcess, tailLines, type Exec } from '../exec/index.js';
import {
  appendHistory,
  checkInstallRoot,
  historyRecord,
  placeInstallKeys,
  rebootAndWait,
  resolveKeys,
  restoreSecrets,
  rollbackHost,
  runNixosInstall,
  SecretReader,
  type HistoryWrite,
  type RebootResult,
  type RollbackResult,
} from '../backends/index.js';
import { appendHistoryCommand, lockCommand, type HostPlan } from '../plan/index.js';
import { exitCodeFor, formatDuration, formatSummaryTable, alignColumns } from '../report/index.js';
import { forEachHost, type HostOutcome } from '../run/index.js';
import { EXIT } from './exit.js';
import { hostProgress, progress } from './host-progress.js';
import { interruptSignal, operateTargets, singleHost, type OperateArgs } from './operate-run.js';
import type { CommandResult } from './result.js';
import { applyPlan } from './apply-run.js';

// ------------------------------------------------------------------------------------------------
// fleet rollback

export async function runRollback(
  args: OperateArgs & { to?: number; boot: boolean; lockTimeout?: number; plain?: boolean },
  exec: Exec = execProcess,
): Promise<CommandResult> {
  const { plan, hosts } = await operateTargets(args);
  const { signal, dispose } = interruptSignal();
  const view = hostProgress(plan, hosts, args);
  const action = args.boot ? 'boot' : 'switch';
  const operator = `${userInfo().username}@${hostname()}`;
  try {
    const outcomes = await forEachHost<HostPlan, HostOutcome>(
      hosts,
      async (host) => {
        const startedAt = Date.now();
        if (!host.ssh) throw new UsageError(`${host.name}: fleet rollback works over ssh only`);
        view.start(host.name, 'rollback', `${args.to !== undefined ? `to generation ${args.to}` : 'to the previous generation'} (${action})`);
        const result: RollbackResult = await rollbackHost({
          host: host.name,
          ssh: host.ssh,
          exec,
          action,
          to: args.to,
          watchdogTimeout: host.watchdogSeconds ?? undefined,
          lock: lockCommand(host.ssh, args.lockTimeout ?? 30, operator),
          signal,
          onLine: (line) => view.line(host.name, 'rollback', line),
        });
        // A verified rollback is a change of system like a deploy: the host's history records it.
        let history: HistoryWrite | undefined;
        if (result.kind === 'changed' && result.storePath && result.generation !== undefined) {
          // Nothing is built from the flake: the revision is that of the generation gone back to, if recorded.
          const record = {
            ...historyRecord(plan.provenance, { time: Date.now(), host: host.name, action: 'rollback', mode: action, system: result.storePath, generation: result.generation }),
            revision: result.record?.revision ?? null,
          };
          history = await appendHistory(appendHistoryCommand(host.ssh, false), record, exec, { sshTarget: true, onLine: (line) => view.line(host.name, 'rollback', line) });
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
          finishedAt: Date.now(),
          steps: [],
        };
      },
      {
        parallel: plan.parallel,
        signal,
        onSkipped: (host) => skippedOutcome(host, action, 'interrupted before it started'),
        onError: (host, error) => ({ ...skippedOutcome(host.name, action, error instanceof Error ? error.message : String(error)), kind: 'failed' }),
        onDone: (host, o) => view.done('rollback', o, `[${host}] ${o.kind}: ${o.reason}`),
      },
    );
    await view.close();
    const exitCode = exitCodeFor(outcomes, { interrupted: signal.aborted });
    if (args.json) return { exitCode, stdout: [JSON.stringify({ command: 'rollback', exitCode, hosts: outcomes.map(jsonOutcome) }, null, 2)] };
    return { exitCode, stdout: ['', ...formatSummaryTable(outcomes)] };
  } finally {
    dispose();
  }
}

function skippedOutcome(host: string, mode: 'switch' | 'boot', reason: string): HostOutcome {
  const at = Date.now();
  return { host, kind: 'skipped', mode, step: 'probe', reason, tail: [], startedAt: at, finishedAt: at, steps: [] };
}

function jsonOutcome(o: HostOutcome) {
  const history = o.history ? { written: o.history.written, reason: o.history.written ? null : o.history.reason } : null;
  return { host: o.host, outcome: o.kind, step: o.step, reason: o.reason, storePath: o.storePath ?? null, durationMs: o.finishedAt - o.startedAt, tail: o.tail, history };
}

// ------------------------------------------------------------------------------------------------
// fleet reboot

export async function runReboot(args: OperateArgs & { waitTimeout: number; plain?: boolean }, exec: Exec = execProcess): Promise<CommandResult> {
  const { plan, hosts } = await operateTargets(args);
  const { signal, dispose } = interruptSignal();
  const view = hostProgress(plan, hosts, args);
  const reader = new SecretReader(exec);
  try {
    const results = await forEachHost<HostPlan, RebootResult & { host: string; durationMs: number }>(
      hosts,
      async (host) => {
        const started = Date.now();
        if (!host.ssh) throw new UsageError(`${host.name} is the local machine: fleet will not reboot the machine it runs on`);
        const ssh = host.ssh;
        // /run/keys is empty after a reboot: the secrets go up again once the host is back. Their
        // sources are read first, so a host whose secrets could not be restored is not rebooted.
        const secrets = 'never' in host.secrets ? undefined : host.secrets;
        const contents = secrets ? await reader.readAll(host.name, 'reboot', secrets.secrets, signal) : undefined;
        if (view.live) view.start(host.name, 'reboot', `reboot, then wait up to ${args.waitTimeout}s for a new boot id${secrets ? ', then upload its secrets again' : ''}`);
        const result = await rebootAndWait({ ssh, exec, waitTimeout: args.waitTimeout, signal, onLine: (line) => view.line(host.name, 'reboot', line) });
        if (result.kind !== 'rebooted' || !secrets || !contents) return { host: host.name, durationMs: Date.now() - started, ...result };
        try {
          const restored = await restoreSecrets({ host: host.name, ssh, step: secrets, contents, exec, signal, onLine: (line) => view.line(host.name, 'reboot', line) });
          return { host: host.name, durationMs: Date.now() - started, ...result, detail: `${result.detail}; ${restored}` };
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          return { host: host.name, durationMs: Date.now() - started, ...result, kind: 'failed', detail: `${result.detail}, but its secrets are not back: ${why}` };
        }
      },
      {
        parallel: plan.parallel,
        signal,
        onSkipped: (host) => ({ host, kind: 'failed', detail: 'interrupted before it started', durationMs: 0 }),
        onError: (host, error) => ({ host: host.name, kind: 'failed', detail: error instanceof Error ? error.message : String(error), durationMs: 0 }),
        onDone: (host, r) => view.finish(host, 'reboot', { ok: r.kind === 'rebooted', reason: r.detail, summary: 'rebooted', plainLine: `[${host}] ${r.kind}: ${r.detail}` }),
      },
    );
    await view.close();
    const exitCode = signal.aborted ? EXIT.interrupted : results.every((r) => r.kind === 'rebooted') ? EXIT.ok : EXIT.hostFailure;
    if (args.json) return { exitCode, stdout: [JSON.stringify({ command: 'reboot', exitCode, hosts: results }, null, 2)] };
    const rows = [['HOST', 'RESULT', 'TIME', 'DETAIL'], ...results.map((r) => [r.host, r.kind, formatDuration(r.durationMs), r.detail])];
    return { exitCode, stdout: ['', ...alignColumns(rows)] };
  } finally {
    reader.dispose();
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet install

export async function runInstall(
  args: { file?: string; host: string; root: string; force: boolean; json: boolean; plain: boolean },
  exec: Exec = execProcess,
): Promise<CommandResult> {
  const checked = checkInstallRoot(args.root, args.force, readFileSync('/proc/self/mountinfo', 'utf8'));
  if (checked.refusal) throw new UsageError(checked.refusal, 'fleet install puts a new system into a freshly mounted root (e.g. /mnt), as nixos-install does');
  const root = checked.root;
  const { plan, host } = await singleHost(args.file, args.host);
  const say = progress(args.json);
  say(`[${host.name}] build: building its system (nix eval + nix build)`);

  // The build stage, exactly as `fleet build` runs it.
  const built = await applyPlan(
    { file: args.file, selection: { only: [host.name], tags: [], exclude: [] } },
    { json: true, plain: true },
    { buildOnly: true },
  );
  const report = JSON.parse(built.stdout?.[0] ?? '{}') as { hosts?: { storePath: string | null; reason: string }[] };
  const system = report.hosts?.[0]?.storePath;
  if (built.exitCode !== 0 || !system) {
    process.stderr.write(`fleet: building ${host.name} failed: ${report.hosts?.[0]?.reason ?? 'no result'}\n`);
    return { exitCode: EXIT.hostFailure };
  }
  say(`[${host.name}] build: ${system}`);

  let placed: string[] = [];
  if (host.keys && host.keys.push !== 'never') {
    const keys = await resolveKeys(host.name, host.keys, exec);
    placed = placeInstallKeys(root, host.keys.destination, keys.files);
    say(`[${host.name}] keys: placed ${placed.map((p) => p.slice(root.length)).join(', ')} under ${root}`);
  }

  const { signal, dispose } = interruptSignal();
  try {
    const run = await runNixosInstall(plan.commands, root, system, exec, {
      signal,
      onLine: (line) => {
        say(`[${host.name}] nixos-install: ${line}`);
      },
    });
    const ok = run.exitCode === 0;
    const exitCode = signal.aborted ? EXIT.interrupted : ok ? EXIT.ok : EXIT.hostFailure;
    const summary = ok ? `installed ${system} into ${root}` : `nixos-install failed (exit ${run.exitCode ?? run.signal})`;
    if (args.json) {
      return { exitCode, stdout: [JSON.stringify({ command: 'install', exitCode, host: host.name, root, system, keys: placed, ok, tail: tailLines(run) }, null, 2)] };
    }
    return { exitCode, stdout: [`${host.name}: ${summary}`] };
  } finally {
    dispose();
  }
}
