// The read-only operating commands: status, check, exec, ssh, generations — arguments, the one
// operating runner (run/operate-run.ts, on the host verbs), output and exit code. Nothing here spawns.
import { UsageError } from '../errors.js';
import type { Exec } from '../exec/index.js';
import { statusExitCode } from '../backends/index.js';
import type { HostPlan, Plan, Selection } from '../plan/index.js';
import { checkHosts, execOnHosts, execStatus, generationsOf, openShell, statusOfHosts, worstExitCode } from '../run/index.js';
import { interruptSignal } from './interrupt.js';
import { formatCheckTable, formatExecBlock, formatGenerations, formatStatusTable } from '../ui/format-operate.js';
import { planFromArgs } from './context.js';
import { execWithSudoPassword } from './sudo-password.js';
import { EXIT } from './exit.js';
import { hostProgress, progress, viewEvents } from './host-progress.js';
import type { CommandResult } from './result.js';

/** What every operating command takes from the command line. */
export interface OperateArgs {
  file?: string;
  selection: Selection;
  parallel?: number;
  json: boolean;
  /** --ask-sudo-password (askSudoPassword in the manifest works without it). */
  askSudoPassword?: boolean;
}

/**
 * The plan of the selected hosts (nothing activates); the runner reaches them with one-shot ssh.
 * `exec` is what the runner gets: with the sudo password where a host's privileged commands take
 * one (asked here, before anything runs); `asUser` commands (exec, ssh) run nothing privileged.
 * With `evaluation` (fleet status) the plan says which hosts the evaluation cache answers.
 */
export async function operateTargets(
  args: Pick<OperateArgs, 'file' | 'selection' | 'parallel' | 'askSudoPassword'>,
  exec?: Exec,
  asUser = false,
  evaluation?: { evalCache?: boolean; impure?: boolean },
): Promise<{ plan: Plan; hosts: HostPlan[]; exec: Exec | undefined }> {
  const { plan } = await planFromArgs({
    file: args.file,
    selection: args.selection,
    parallel: args.parallel,
    activates: false,
    ...(args.askSudoPassword ? { askSudoPassword: true } : {}),
    ...(evaluation ? { evaluates: true, ...evaluation } : {}),
  });
  return { plan, hosts: plan.hosts, exec: asUser ? exec : await execWithSudoPassword(plan.hosts, exec) };
}

export { interruptSignal } from './interrupt.js';

function json(value: unknown): string[] {
  return [JSON.stringify(value, null, 2)];
}

// ------------------------------------------------------------------------------------------------
// fleet status

export async function runStatus(args: OperateArgs & { plain?: boolean; evalCache?: boolean; impure?: boolean }, given?: Exec): Promise<CommandResult> {
  const { plan, hosts, exec } = await operateTargets(args, given, false, { evalCache: args.evalCache, impure: args.impure });
  const { signal, dispose } = interruptSignal();
  // A live tree on a terminal only: in CI and with --plain, status prints just its table.
  const view = await hostProgress(plan, hosts, args);
  try {
    const { hosts: statuses, interrupted } = await statusOfHosts(plan, { exec, signal, events: viewEvents(view) }).finally(() => view.close());
    const exitCode = interrupted
      ? EXIT.interrupted
      : statusExitCode(statuses.map((s) => s.verdict), { ok: EXIT.ok, failure: EXIT.hostFailure, outOfSync: EXIT.outOfSync }, statuses.map((s) => s.secrets?.state));
    if (args.json) return { exitCode, stdout: json({ command: 'status', exitCode, hosts: statuses }) };
    return { exitCode, stdout: formatStatusTable(statuses) };
  } finally {
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet check

export async function runCheck(args: OperateArgs & { plain?: boolean }, given?: Exec): Promise<CommandResult> {
  const { plan, hosts, exec } = await operateTargets(args, given);
  const { signal, dispose } = interruptSignal();
  // A live tree on a terminal only: in CI and with --plain, check prints just its table.
  const view = await hostProgress(plan, hosts, args);
  try {
    const { hosts: results, interrupted } = await checkHosts(plan, { exec, signal, events: viewEvents(view) }).finally(() => view.close());
    const exitCode = interrupted ? EXIT.interrupted : results.every((r) => r.healthy) ? EXIT.ok : EXIT.hostFailure;
    if (args.json) return { exitCode, stdout: json({ command: 'check', exitCode, hosts: results }) };
    return { exitCode, stdout: formatCheckTable(results) };
  } finally {
    dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// fleet exec

export async function runExec(args: OperateArgs & { command: string[]; timeout?: number; plain?: boolean }, exec?: Exec): Promise<CommandResult> {
  if (args.command.length === 0) throw new UsageError('no command to run', 'put it after --, e.g. fleet exec -- uptime');
  const { plan, hosts } = await operateTargets(args, exec, true);
  const { signal, dispose } = interruptSignal();
  // On a terminal each host's output runs live in the tree, and the grouped blocks follow it;
  // in CI a host's block is printed when it finishes.
  const view = await hostProgress(plan, hosts, args);
  let run: Awaited<ReturnType<typeof execOnHosts>>;
  try {
    run = await execOnHosts(plan, args.command, args.timeout, {
      exec,
      signal,
      events: viewEvents(view, { done: (host, _outcome, r) => formatExecBlock(host, r.output, execStatus(r)) }),
    });
  } finally {
    dispose();
    await view.close();
  }
  const results = run.hosts;
  const say = progress(args.json);
  if (view.live) for (const r of results) for (const line of ['', ...formatExecBlock(r.host, r.output, execStatus(r))]) say(line);
  const exitCode = run.interrupted ? EXIT.interrupted : worstExitCode(results.map((r) => r.exitCode));
  if (args.json) {
    return {
      exitCode,
      stdout: json({ command: 'exec', argv: args.command, exitCode, hosts: results.map(({ output: _o, ...r }) => r) }),
    };
  }
  const failed = results.filter((r) => r.exitCode !== 0);
  return { exitCode, stdout: [failed.length === 0 ? `${results.length} host(s): all exit 0` : `${failed.length} of ${results.length} host(s) exited non-zero: ${failed.map((r) => `${r.host} (${r.exitCode ?? 'none'})`).join(', ')}`] };
}

// ------------------------------------------------------------------------------------------------
// fleet ssh

/** The one host a single-host command names. */
export async function singleHost(
  file: string | undefined,
  name: string,
  privileged?: { exec?: Exec; askSudoPassword?: boolean },
): Promise<{ plan: Plan; host: HostPlan; exec: Exec | undefined }> {
  if (/[*?@,]/.test(name)) throw new UsageError(`name one host (got ${name})`);
  const selection = { only: [name], tags: [], exclude: [] };
  const { plan, hosts, exec } = await operateTargets({ file, selection, ...(privileged?.askSudoPassword ? { askSudoPassword: true } : {}) }, privileged?.exec, !privileged);
  return { plan, host: hosts[0]!, exec };
}

export async function runSsh(args: { file?: string; host: string; command: string[] }, exec?: Exec): Promise<CommandResult> {
  const { plan, host } = await singleHost(args.file, args.host);
  if (!host.ssh) throw new UsageError(`${host.name} is the local machine: there is nothing to ssh into`);
  // Ctrl-C belongs to the remote side while ssh runs; fleet only waits for ssh to end.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    return { exitCode: await openShell(plan, host, args.command, { exec, signal: new AbortController().signal }) };
  } finally {
    process.off('SIGINT', ignore);
  }
}

// ------------------------------------------------------------------------------------------------
// fleet generations

export async function runGenerations(args: { file?: string; host: string; json: boolean; askSudoPassword?: boolean }, given?: Exec): Promise<CommandResult> {
  const { plan, host, exec } = await singleHost(args.file, args.host, { exec: given, askSudoPassword: args.askSudoPassword });
  const { signal, dispose } = interruptSignal();
  const answer = await generationsOf(plan, { exec, signal }).finally(dispose);
  if ('error' in answer) {
    const lines = [`fleet: ${host.name}: ${answer.error}`, ...answer.tail.map((l) => `  │ ${l}`)];
    process.stderr.write(`${lines.join('\n')}\n`);
    return { exitCode: EXIT.hostFailure };
  }
  if (args.json) return { exitCode: EXIT.ok, stdout: json({ command: 'generations', host: host.name, ...answer.list }) };
  return { exitCode: EXIT.ok, stdout: formatGenerations(host.name, answer.list) };
}
