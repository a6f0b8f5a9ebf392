// The operating commands that change hosts: rollback, reboot, and install into a local root —
// arguments, the one operating runner (run/operate-run.ts, on the host verbs), output and exit
// code. Nothing here spawns.
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { UsageError } from '../errors.js';
import type { Exec } from '../exec/index.js';
import { checkInstallRoot } from '../backends/index.js';
import { exitCodeFor, formatDuration, formatSummaryTable, alignColumns } from '../report/index.js';
import type { HostPlan, Plan } from '../plan/index.js';
import { installIntoRoot, OPERATE_DEFAULTS, placeKeysUnder, rebootHosts, rollbackHosts, runPlan, type HostOutcome } from '../run/index.js';
import { EXIT } from './exit.js';
import { hostProgress, progress, viewEvents } from './host-progress.js';
import { interruptSignal, operateTargets, singleHost, type OperateArgs } from './operate-run.js';
import type { CommandResult } from './result.js';
import { planFromArgs } from './context.js';

// ------------------------------------------------------------------------------------------------
// fleet rollback

export async function runRollback(
  args: OperateArgs & { to?: number; boot: boolean; lockTimeout?: number; plain?: boolean },
  given?: Exec,
): Promise<CommandResult> {
  const { plan, hosts, exec } = await operateTargets(args, given);
  const { signal, dispose } = interruptSignal();
  const view = await hostProgress(plan, hosts, args);
  try {
    const { hosts: outcomes, interrupted } = await rollbackHosts(
      plan,
      { to: args.to, action: args.boot ? 'boot' : 'switch', lockWaitSeconds: args.lockTimeout, operator: `${userInfo().username}@${hostname()}` },
      { exec, signal, events: viewEvents(view, { starts: true, lines: true, done: (host, o) => `[${host}] ${o.kind}: ${o.reason}` }) },
    );
    await view.close();
    const exitCode = exitCodeFor(outcomes, { interrupted });
    if (args.json) return { exitCode, stdout: [JSON.stringify({ command: 'rollback', exitCode, hosts: outcomes.map(jsonOutcome) }, null, 2)] };
    return { exitCode, stdout: ['', ...formatSummaryTable(outcomes)] };
  } finally {
    dispose();
  }
}

function jsonOutcome(o: HostOutcome) {
  const history = o.history ? { written: o.history.written, reason: o.history.written ? null : o.history.reason } : null;
  return { host: o.host, outcome: o.kind, step: o.step, reason: o.reason, storePath: o.storePath ?? null, durationMs: o.finishedAt - o.startedAt, tail: o.tail, history };
}

// ------------------------------------------------------------------------------------------------
// fleet reboot

export async function runReboot(args: OperateArgs & { waitTimeout?: number; plain?: boolean }, given?: Exec): Promise<CommandResult> {
  const { plan, hosts, exec } = await operateTargets(args, given);
  const { signal, dispose } = interruptSignal();
  const view = await hostProgress(plan, hosts, args);
  try {
    const { hosts: results, interrupted } = await rebootHosts(plan, args.waitTimeout ?? OPERATE_DEFAULTS.rebootWaitSeconds, {
      exec,
      signal,
      events: viewEvents(view, { lines: true, done: (host, _o, r) => `[${host}] ${r.kind}: ${r.detail}` }),
    });
    await view.close();
    const exitCode = interrupted ? EXIT.interrupted : results.every((r) => r.kind === 'rebooted') ? EXIT.ok : EXIT.hostFailure;
    if (args.json) return { exitCode, stdout: [JSON.stringify({ command: 'reboot', exitCode, hosts: results }, null, 2)] };
    const rows = [['HOST', 'RESULT', 'TIME', 'DETAIL'], ...results.map((r) => [r.host, r.kind, formatDuration(r.durationMs), r.detail])];
    return { exitCode, stdout: ['', ...alignColumns(rows)] };
  } finally {
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet install

export async function runInstall(
  args: { file?: string; host: string; root: string; force: boolean; json: boolean; plain: boolean },
  exec?: Exec,
): Promise<CommandResult> {
  const checked = checkInstallRoot(args.root, args.force, readFileSync('/proc/self/mountinfo', 'utf8'));
  if (checked.refusal) throw new UsageError(checked.refusal, 'fleet install puts a new system into a freshly mounted root (e.g. /mnt), as nixos-install does');
  const root = checked.root;
  const { plan, host } = await singleHost(args.file, args.host);
  const say = progress(args.json);
  say(`[${host.name}] build: building its system (nix eval + nix build)`);

  const { signal, dispose } = interruptSignal();
  try {
    // The build stage, exactly as `fleet build` runs it, through the runner: its outcome is data.
    const { plan: building } = await planFromArgs({ file: args.file, selection: { only: [host.name], tags: [], exclude: [] }, scope: { buildOnly: true } }, exec);
    const built = await runPlan(building, { exec, signal, reporter: { emit: () => undefined, close: async () => undefined } });
    const outcome = built.outcomes[0];
    const system = outcome?.kind === 'unchanged' ? outcome.storePath : undefined;
    if (!system) {
      process.stderr.write(`fleet: building ${host.name} failed: ${outcome?.reason ?? 'no result'}\n`);
      return { exitCode: signal.aborted ? EXIT.interrupted : EXIT.hostFailure };
    }
    say(`[${host.name}] build: ${system}`);
    return await installBuilt(args, plan, host, root, system, { exec, signal, say });
  } finally {
    dispose();
  }
}

/** The install itself, once the system is built: keys under the root, then nixos-install. */
async function installBuilt(
  args: { json: boolean },
  plan: Plan,
  host: HostPlan,
  root: string,
  system: string,
  { exec, signal, say }: { exec?: Exec; signal: AbortSignal; say: (line: string) => void },
): Promise<CommandResult> {
  const placed = await placeKeysUnder(host, root, { exec });
  if (placed) say(`[${host.name}] keys: placed ${placed.map((p) => p.slice(root.length)).join(', ')} under ${root}`);

  const run = await installIntoRoot(plan, root, system, {
    exec,
    signal,
    onLine: (line) => {
      say(`[${host.name}] nixos-install: ${line}`);
    },
  });
  const ok = run.ok;
  const exitCode = signal.aborted ? EXIT.interrupted : ok ? EXIT.ok : EXIT.hostFailure;
  const summary = ok ? `installed ${system} into ${root}` : `nixos-install failed (exit ${run.exitCode ?? run.signal})`;
  if (args.json) {
    return { exitCode, stdout: [JSON.stringify({ command: 'install', exitCode, host: host.name, root, system, keys: placed ?? [], ok, tail: run.tail }, null, 2)] };
  }
  return { exitCode, stdout: [`${host.name}: ${summary}`] };
}
